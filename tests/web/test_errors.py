"""Readable 403 and 404 pages for the product's paths, in the user's language with a way home; under
/api/ the same errors keep the API's JSON shape."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse

from config import urls as project_urls

pytestmark = pytest.mark.django_db


def _forbidden(request):
    raise PermissionDenied("Only the owning team may decide this gate.")


# This module is also the url table of its tests: the project's, plus a page that refuses.
urlpatterns = [
    path("forbidden-for-test/", _forbidden),
    path("api/forbidden-for-test/", _forbidden),
    *project_urls.urlpatterns,
]
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.mark.urls(__name__)
def test_a_forbidden_page_is_a_readable_403_page(client, seller):
    client.force_login(seller)
    response = client.get("/forbidden-for-test/")
    body = response.content.decode()
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    assert "<h1 id=\"error-heading\">Not allowed</h1>" in body
    assert "Only the owning team may decide this gate." in body
    assert f'href="{reverse("web:home")}"' in body and 'class="site-header"' in body


@pytest.mark.urls(__name__)
def test_the_403_page_speaks_the_users_language(client, seller):
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    body = client.get("/forbidden-for-test/").content.decode()
    assert "Nicht erlaubt" in body and "Zurück zu meiner Arbeit" in body


def test_an_unknown_address_is_a_readable_404_page(client, seller):
    client.force_login(seller)
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "Page not found" in body and f'href="{reverse("web:home")}"' in body


def test_a_record_outside_ones_scope_is_the_same_404_page(client, seller):
    client.force_login(seller)
    response = client.post(reverse("web:inbox-read", args=[424242]))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_the_404_page_speaks_german_and_works_signed_out(client):
    client.cookies["django_language"] = "de"
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404 and "Seite nicht gefunden" in body
    assert 'class="main-nav"' not in body and "<form" not in body, "nothing of the product for a visitor"


@pytest.mark.urls(__name__)
def test_api_paths_keep_the_json_error_shape(client, seller):
    client.force_login(seller)
    missing = client.get("/api/no-such-resource/")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert set(missing.json()) == {"error", "detail", "fields"}
    forbidden = client.get("/api/forbidden-for-test/")
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "not_allowed"
