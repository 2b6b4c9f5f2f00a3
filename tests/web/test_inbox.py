"""The inbox (`/inbox/`): one's own notifications only, unread first, mark one or all read (htmx or a
plain form), each linking to the page where the work is done — as the e-mails do."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import EventKind, InboxItem
from notifications.selectors import inbox_unread_count
from tests.gate_flow import decide, decide_go, open_review, submitted
from tests.outbox_support import drain
from web.views.inbox import item_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate_opened(make_promise, seller, service_user, legal_user):
    """A submitted promise whose first gate passed: the service team heard its gate opened, the
    owner heard the decision, the legal team hears its gate opened now."""
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)
    drain()
    return promise


def inbox_page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("web:inbox"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_inbox_shows_only_ones_own_items(client, gate_opened, seller, service_user):
    # given the seller's item (gate decided) and the gatekeeper's (gate opened)
    sellers = InboxItem.objects.get(user=seller, kind=EventKind.GATE_DECIDED)
    gatekeepers = InboxItem.objects.get(user=service_user)
    # when the gatekeeper opens the inbox
    body = inbox_page(client, service_user)
    # then only their own item is there, and the seller's cannot be marked read by them
    assert f'id="inbox-item-{gatekeepers.pk}"' in body and f'id="inbox-item-{sellers.pk}"' not in body
    assert client.post(reverse("web:inbox-read", args=[sellers.pk])).status_code == 404
    assert client.post(reverse("web:inbox-read", args=[99999999999999999999])).status_code == 404
    sellers.refresh_from_db()
    assert sellers.read_at is None


def test_each_item_links_to_the_page_where_the_work_is_done(client, gate_opened, seller, legal_user):
    review = open_review(gate_opened)
    assert f'href="/gates/{review.pk}/decide/"' in inbox_page(client, legal_user)
    assert f'href="/promises/{gate_opened.pk}/"' in inbox_page(client, seller)


def test_the_gate_opened_email_links_to_the_decision_page_on_the_configured_site(make_promise, seller,
                                                                                 service_user, settings):
    settings.SITE_URL = "https://quality.example.com/"
    mail.outbox.clear()
    promise = submitted(make_promise, seller)
    drain()
    review = open_review(promise)
    (email,) = [m for m in mail.outbox if m.to == [service_user.email]]
    assert f"https://quality.example.com/gates/{review.pk}/decide/" in email.body
    assert "/admin/" not in email.body


def test_an_item_written_with_an_admin_link_leads_to_the_promise_page():
    item = InboxItem(link="http://old.example/admin/promises/servicepromise/12/change/", subject="promise:12")
    assert item_target(item) == "/promises/12/"
    assert item_target(InboxItem(link="https://quality.example.com/gates/3/decide/?a=1")) == "/gates/3/decide/?a=1"
    assert item_target(InboxItem(link="javascript:alert(1)")) == ""


def test_unread_first_then_newest(client, gate_opened, seller, legal_user):
    # given the seller's two items, the newer one read
    decide(gate_opened, legal_user, "hold", comment="Capacity check")
    drain()
    older, newer = InboxItem.objects.filter(user=seller).order_by("created_at", "id")[:2]
    newest = InboxItem.objects.filter(user=seller).order_by("-created_at", "-id").first()
    newest.read_at = newest.created_at
    newest.save()
    body = inbox_page(client, seller)
    positions = {item.pk: body.index(f'id="inbox-item-{item.pk}"') for item in (older, newer, newest)}
    assert positions[newest.pk] == max(positions.values()), "the read one comes after the unread ones"


def test_mark_one_read_without_javascript_redirects_back(client, gate_opened, seller):
    item = InboxItem.objects.filter(user=seller).first()
    client.force_login(seller)
    response = client.post(reverse("web:inbox-read", args=[item.pk]), {"next": "/inbox/?page=1"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?page=1"
    item.refresh_from_db()
    assert item.read_at is not None
    assert client.get(reverse("web:inbox-read", args=[item.pk])).status_code == 405
    foreign = client.post(reverse("web:inbox-read-all"), {"next": "https://evil.example/"})
    assert foreign["Location"] == reverse("web:inbox")


def test_mark_one_read_with_htmx_swaps_the_item_and_the_bell(client, gate_opened, seller, legal_user):
    decide(gate_opened, legal_user, "hold", comment="Capacity check")
    drain()
    item = InboxItem.objects.filter(user=seller).first()
    client.force_login(seller)
    before = inbox_unread_count(user=seller)
    response = client.post(reverse("web:inbox-read", args=[item.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="inbox-item-{item.pk}"' in body and reverse("web:inbox-read", args=[item.pk]) not in body
    assert 'id="bell"' in body and 'hx-swap-oob="true"' in body
    assert f'<span class="badge">{before - 1}</span>' in body
    assert 'id="inbox-mark-all" hx-swap-oob="true"' in body and f"Mark all {before - 1} unread as read" in body


def test_mark_all_read(client, gate_opened, seller, service_user, legal_user):
    decide(gate_opened, legal_user, "hold", comment="Capacity check")
    drain()
    client.force_login(seller)
    response = client.post(reverse("web:inbox-read-all"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="inbox-list"' in body and 'id="bell"' in body
    assert 'class="badge"' not in body
    assert inbox_unread_count(user=seller) == 0
    assert not InboxItem.objects.filter(user=service_user, read_at__isnull=False).exists(), "only one's own"


@pytest.mark.parametrize("n", [1, 30])
def test_the_inbox_runs_a_bounded_number_of_queries(client, make_promise, seller, service_user, n,
                                                    django_assert_max_num_queries):
    for i in range(n):
        submitted(make_promise, seller, title=f"Promise {i}")
    drain()
    client.force_login(service_user)
    with django_assert_max_num_queries(10):
        body = client.get(reverse("web:inbox")).content.decode()
    assert body.count('class="card inbox-item unread"') == min(n, 20)
    if n > 20:
        assert "Page 1 of 2" in body


def test_the_inbox_speaks_german(client, gate_opened, seller):
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    body = client.get(reverse("web:inbox")).content.decode()
    assert "Posteingang" in body and "Als gelesen markieren" in body and "Ungelesen" in body
