"""Sign-in cannot be guessed: five failures lock the account and the address (admin login and token
endpoint alike); tokens are stored hashed, expire, and die with a password change; sessions end
after a working day without a request."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import token_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="operator", password="right-password", is_staff=True, is_superuser=True)


def _admin_login(client: Client, password: str):
    return client.post(reverse("admin:login"), {"username": "operator", "password": password,
                                                "next": "/admin/"})


def test_the_admin_login_locks_after_five_failures_even_for_the_right_password(staff):
    client = Client()
    for _ in range(4):
        assert _admin_login(client, "guess").status_code == 200  # the form again, with its error
    # the fifth failure locks
    assert _admin_login(client, "guess").status_code == 429
    # then the right password is refused too, for the cool-off
    locked = _admin_login(client, "right-password")
    assert locked.status_code == 429 and "locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # and from another address the account is still locked (per account) …
    assert _admin_login(Client(REMOTE_ADDR="10.9.9.9"), "right-password").status_code == 429


def test_the_address_is_locked_for_every_account(staff):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for name in ["a", "b", "c", "d", "e"]:
        client.post(reverse("admin:login"), {"username": name, "password": "guess"})
    assert _admin_login(client, "right-password").status_code == 429


def test_a_success_resets_the_count(staff):
    client = Client()
    for _ in range(4):
        _admin_login(client, "guess")
    assert _admin_login(client, "right-password").status_code == 302
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_the_token_endpoint_locks_with_the_api_error_shape(seller):
    client = APIClient()
    for _ in range(4):
        assert client.post("/api/auth/token/", {"username": "seller", "password": "no"},
                           format="json").status_code == 400
    for password in ["no", "pw"]:
        locked = client.post("/api/auth/token/", {"username": "seller", "password": password}, format="json")
        assert locked.status_code == 429
        assert locked.json()["error"] == "locked_out" and locked.json()["fields"] == {}
    assert not ApiToken.objects.exists()


def test_a_token_is_stored_only_as_a_hash():
    user = UserFactory()
    issued = token_issue(user=user)
    stored = ApiToken.objects.get(user=user)
    assert stored.digest == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key not in {str(v) for v in ApiToken.objects.values_list(flat=False).get()}


def test_a_token_expires(seller, settings):
    settings.API_TOKEN_TTL_HOURS = 2
    issued = token_issue(user=seller, now=timezone.now() - dt.timedelta(hours=3))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    refused = client.get("/api/me/")
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    fresh = token_issue(user=seller)
    client.credentials(HTTP_AUTHORIZATION=f"Token {fresh.key}")
    assert client.get("/api/me/").status_code == 200
    assert fresh.expires_at - fresh.created == dt.timedelta(hours=2)


def test_a_password_change_revokes_the_token(seller):
    client = APIClient()
    key = client.post("/api/auth/token/", {"username": "seller", "password": "pw"}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").status_code == 200
    seller.set_password("a-new-password-9")
    seller.save()
    refused = client.get("/api/me/")
    assert refused.status_code == 401 and "password was changed" in refused.json()["detail"]


def test_a_session_ends_after_a_working_day_without_a_request():
    assert settings.SESSION_COOKIE_AGE == 9 * 3600 and settings.SESSION_SAVE_EVERY_REQUEST is True
