"""The frame every page shares: sign-in for every role, the header, the language remembered per user."""

import pytest
from django.urls import reverse

from notifications.models import NotificationProfile

pytestmark = pytest.mark.django_db


def test_a_gatekeeper_without_admin_access_signs_in_on_the_product_login_and_lands_home(client, service_user):
    # given a gatekeeper (no admin access)
    service_user.set_password("pw-123456789")
    service_user.save()
    # when they sign in on the product's page
    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": service_user.username, "password": "pw-123456789"})
    # then they land on their home
    assert page.status_code == 200 and b'name="password"' in page.content
    assert response.status_code == 302 and response["Location"] == reverse("web:home")


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("web:gate-queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_language_switch_is_remembered_for_the_user_and_used_at_the_next_sign_in(client, seller):
    # given a seller who switches to German
    seller.set_password("pw-123456789")
    seller.save()
    client.force_login(seller)
    response = client.post(reverse("web:language"), {"language": "de", "next": "/promises/"})
    assert response.status_code == 302 and response["Location"] == "/promises/"
    assert NotificationProfile.objects.get(user=seller).language == "de"
    # when they sign in again from a fresh browser
    client.logout()
    client.cookies.clear()
    client.post(reverse("login"), {"username": seller.username, "password": "pw-123456789"})
    # then the pages speak German
    assert client.cookies["django_language"].value == "de"
    assert "Meine Arbeit" in client.get(reverse("web:home")).content.decode()


def test_the_language_switch_refuses_an_unknown_language_and_a_foreign_redirect(client, seller):
    client.force_login(seller)
    response = client.post(reverse("web:language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not NotificationProfile.objects.filter(user=seller, language="xx").exists()


def test_the_header_shows_the_unread_count_and_only_the_navigation_of_the_role(client, seller, django_assert_max_num_queries):
    client.force_login(seller)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("web:home")).content.decode()
    assert reverse("web:promise-list") in body
    assert reverse("web:dashboard") not in body and reverse("web:gate-queue") not in body
