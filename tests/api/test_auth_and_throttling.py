"""Tokens for programs, sessions for the browser, and rate limits for both and the status page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from api.models import ApiToken
from promises import services as promises
from tests.gate_flow import approved


def _rates(**changed) -> dict:
    return {"REST_FRAMEWORK": {**_current(), "DEFAULT_THROTTLE_RATES": {**_current()["DEFAULT_THROTTLE_RATES"],
                                                                         **changed}}}


def _current() -> dict:
    from django.conf import settings

    return settings.REST_FRAMEWORK


@pytest.mark.django_db
def test_a_user_creates_uses_and_revokes_a_token(seller):
    client = APIClient()
    # when the user asks for a token with their password
    created = client.post("/api/auth/token/", {"username": "seller", "password": "pw"}, format="json")
    assert created.status_code == 201, created.data
    key = created.json()["token"]
    # then a program can use it
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/me/").json()["username"] == "seller"
    # and after revoking it, the same key is refused
    assert client.delete("/api/auth/token/").status_code == 204
    refused = client.get("/api/me/")
    assert refused.status_code == 401
    assert refused.json()["error"] == "not_authenticated"
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_new_token_replaces_the_old_one(seller):
    client = APIClient()
    first = client.post("/api/auth/token/", {"username": "seller", "password": "pw"}, format="json").json()
    second = client.post("/api/auth/token/", {"username": "seller", "password": "pw"}, format="json").json()
    assert first["token"] != second["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {first['token']}")
    assert client.get("/api/me/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", [{"username": "seller", "password": "wrong"},
                                         {"username": "nobody", "password": "pw"}])
def test_wrong_credentials_get_one_answer(seller, credentials):
    response = APIClient().post("/api/auth/token/", credentials, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_credentials"


@pytest.mark.django_db
def test_unauthenticated_is_401_with_a_challenge():
    response = APIClient().get("/api/promises/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_browser_session_works_and_needs_csrf_for_writes(seller, make_promise):
    # given a browser signed in through the admin login (session cookie)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(seller)
    promise = make_promise()
    # then reads work
    assert browser.get("/api/promises/").status_code == 200
    # and a write without the CSRF token is refused (a forged cross-site post), with it accepted
    refused = browser.post(f"/api/promises/{promise.pk}/withdraw/", {}, content_type="application/json")
    assert refused.status_code == 403
    browser.get("/admin/login/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(f"/api/promises/{promise.pk}/withdraw/", {}, content_type="application/json",
                            HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content


@pytest.mark.django_db
def test_anonymous_clients_are_throttled():
    with override_settings(**_rates(anon="3/min")):
        assert api_settings.DEFAULT_THROTTLE_RATES["anon"] == "3/min"
        client = APIClient()
        statuses = [client.get("/api/schema/").status_code for _ in range(4)]
    # the schema is public; the fourth call within the minute is refused
    assert statuses == [200, 200, 200, 429]


@pytest.mark.django_db
def test_token_clients_are_throttled_per_user(api):
    with override_settings(**_rates(user="2/min")):
        maker, manager = api("maker"), api("manager")
        assert [maker.get("/api/me/").status_code for _ in range(3)] == [200, 200, 429]
        throttled = maker.get("/api/me/")
        # another user has their own allowance
        assert manager.get("/api/me/").status_code == 200
    assert throttled.json()["error"] == "throttled"
    assert int(throttled["Retry-After"]) >= 1


@pytest.mark.django_db
def test_password_guessing_is_throttled(seller):
    with override_settings(**_rates(token_create="2/min")):
        client = APIClient()
        statuses = [client.post("/api/auth/token/", {"username": "seller", "password": f"guess{i}"},
                                format="json").status_code for i in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.django_db
def test_customer_status_page_is_rate_limited(make_promise, seller, service_user, legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    promise = promises.promise_commit(promise_id=promise.pk, user=seller)
    with override_settings(**_rates(status_page="2/min")):
        client = Client()
        statuses = [client.get(f"/status/{promise.status_token}/").status_code for _ in range(3)]
        # guessing tokens counts too: unknown links use up the same allowance
        guess = client.get("/status/not-a-real-token/")
    assert statuses == [200, 200, 429]
    assert guess.status_code == 429
    assert "Retry-After" in guess


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Token abc\x00def", "Token " + "a" * 5000, "Token " + "g" * 40,
                                    "Token a b", "Token \u00e9"])
def test_malformed_tokens_are_401_without_a_query(header, django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = APIClient().get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
