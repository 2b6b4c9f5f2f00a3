"""The header's icons draw on every machine: the bell is an inline SVG with a spoken label (an emoji is
a box without an emoji font), and the product has a favicon, also at /favicon.ico."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def test_the_bell_is_an_svg_icon_with_the_unread_count_in_its_label(client, seller):
    client.force_login(seller)
    body = client.get(reverse("web:home")).content.decode()
    bell = re.search(r'<a id="bell".*?</a>', body, re.S).group(0)
    assert "<svg" in bell and 'aria-hidden="true"' in bell
    assert 'aria-label="Inbox: 0 unread notifications"' in bell
    assert not EMOJI.search(body)


def test_the_pages_name_an_svg_favicon_that_exists(client, seller):
    client.force_login(seller)
    body = client.get(reverse("web:home")).content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', body).group(1)
    assert href.endswith("web/favicon.svg") and finders.find("web/favicon.svg")


def test_favicon_ico_answers_the_icon_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/web/favicon.svg")
    assert client.post("/favicon.ico").status_code == 405
