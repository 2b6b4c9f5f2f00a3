"""The customer's status link: issued at commitment, shown to those who speak to the customer,
revocable and re-issuable by the owner or a manager; a revoked link answers like an unknown one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from core import roles
from core.errors import IllegalTransition, NotAllowed
from promises import clock as promise_clock
from promises import services as ps
from promises.error_codes import PromiseErrorCode
from promises.models import TrailSubject, TransitionLog
from tests.admin_support import make_staff
from tests.factories import UserFactory
from tests.gate_flow import approved, refreshed, submitted
from tests.outbox_support import drain


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # The status page is rate limited per address; each test starts with a fresh allowance.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed(make_promise, seller, service_user, legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    return ps.promise_commit(promise_id=promise.pk, user=seller)


def link_trail(promise) -> list[tuple[str, str | None]]:
    return list(TransitionLog.objects.filter(promise_id=promise.pk, subject=TrailSubject.STATUS_LINK)
                .order_by("at", "id").values_list("action", "actor__username"))


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- issued at commitment ---------------------------------------------------------------------------

def test_no_link_before_commitment_and_one_from_commitment_on(client, make_promise, seller, service_user,
                                                              legal_user):
    # given a draft, a promise in review and an approved one
    draft = make_promise()
    in_review = submitted(make_promise, seller, title="In review")
    ready = approved(make_promise, seller, service_user, legal_user, title="Approved")
    # then none of them has a link the customer could follow
    assert [refreshed(p).status_token for p in (draft, in_review, ready)] == [None, None, None]
    # when the approved one is committed, it gets a link of 32 random bytes, written to its trail
    promise = ps.promise_commit(promise_id=ready.pk, user=seller)
    assert promise.status_token and len(promise.status_token) >= 43
    assert refreshed(promise).status_token == promise.status_token
    assert link_trail(promise) == [("status_link_issued", "seller")]
    assert client.get(reverse("promise-status", args=[promise.status_token])).status_code == 200


def test_tokens_are_unique_per_promise(make_promise, seller, service_user, legal_user):
    tokens = set()
    for n in range(3):
        promise = approved(make_promise, seller, service_user, legal_user, title=f"Promise {n}")
        tokens.add(ps.promise_commit(promise_id=promise.pk, user=seller).status_token)
    assert len(tokens) == 3


# --- revoked and re-issued ------------------------------------------------------------------------

def test_a_revoked_link_answers_exactly_like_an_unknown_one(client, committed, seller):
    # given the customer's link works
    old = committed.status_token
    assert client.get(reverse("promise-status", args=[old])).status_code == 200
    # when the owner revokes it
    ps.promise_status_link_revoke(promise_id=committed.pk, user=seller, comment="Sent to the wrong person")
    # then its page and its rating form answer like a link that never existed, byte for byte
    revoked = client.get(reverse("promise-status", args=[old]))
    unknown = client.get(reverse("promise-status", args=["x" * len(old)]))
    assert (revoked.status_code, revoked.content) == (unknown.status_code, unknown.content)
    assert revoked.status_code == 404
    rating = {"kept_as_seen": "yes", "csat_score": "5"}
    revoked_rate = client.post(reverse("promise-rate", args=[old]), rating)
    unknown_rate = client.post(reverse("promise-rate", args=["x" * len(old)]), rating)
    assert (revoked_rate.status_code, revoked_rate.content) == (unknown_rate.status_code, unknown_rate.content)
    assert refreshed(committed).status_token is None
    assert link_trail(committed) == [("status_link_issued", "seller"), ("status_link_revoked", "seller")]


def test_reissue_replaces_the_link_and_the_old_one_stops_working(client, committed, manager):
    old = committed.status_token
    # when a manager issues a new link
    promise = ps.promise_status_link_reissue(promise_id=committed.pk, user=manager)
    # then the new one works, the old one is unknown, and the trail names who did it
    assert promise.status_token not in (None, old)
    assert client.get(reverse("promise-status", args=[promise.status_token])).status_code == 200
    assert client.get(reverse("promise-status", args=[old])).status_code == 404
    assert link_trail(promise) == [("status_link_issued", "seller"), ("status_link_reissued", "manager")]
    # and a revoked link can be re-issued as well
    ps.promise_status_link_revoke(promise_id=promise.pk, user=manager)
    assert ps.promise_status_link_reissue(promise_id=promise.pk, user=manager).status_token


def test_only_the_owner_or_a_manager_revokes_or_reissues(committed, service_user):
    colleague = UserFactory(username="seller-b", teams=[roles.SALES])
    for user in (colleague, service_user):
        for service in (ps.promise_status_link_revoke, ps.promise_status_link_reissue):
            with pytest.raises(NotAllowed) as refused:
                service(promise_id=committed.pk, user=user)
            assert refused.value.code == PromiseErrorCode.NOT_OWNER
    assert link_trail(committed) == [("status_link_issued", "seller")]


def test_no_link_is_issued_before_commitment_and_none_revoked_twice(make_promise, seller, committed):
    draft = make_promise(title="A draft")
    with pytest.raises(IllegalTransition) as refused:
        ps.promise_status_link_reissue(promise_id=draft.pk, user=seller)
    assert refused.value.code == PromiseErrorCode.NOT_COMMITTED
    ps.promise_status_link_revoke(promise_id=committed.pk, user=seller)
    with pytest.raises(IllegalTransition) as refused:
        ps.promise_status_link_revoke(promise_id=committed.pk, user=seller)
    assert refused.value.code == PromiseErrorCode.NO_STATUS_LINK


# --- the interim notice sends the current link ----------------------------------------------------

def test_the_interim_notice_sends_the_current_link_and_none_while_revoked(committed, seller, customer):
    later = committed.customer_visible_at + dt.timedelta(days=6)
    # given the link was revoked: no notice goes out without one
    ps.promise_status_link_revoke(promise_id=committed.pk, user=seller)
    assert promise_clock.interim_notices_send(now=later) == 0
    # when it is re-issued, the notice carries the new link
    promise = ps.promise_status_link_reissue(promise_id=committed.pk, user=seller)
    mail.outbox.clear()
    assert promise_clock.interim_notices_send(now=later) == 1
    drain()
    [email] = [m for m in mail.outbox if m.to == [customer.email]]
    assert f"/status/{promise.status_token}/" in email.body


# --- the API --------------------------------------------------------------------------------------

def test_status_url_is_shown_to_owner_department_and_managers_only(committed, seller, manager, service_user,
                                                                   settings):
    settings.SITE_URL = "https://quality.example.com/"
    expected = f"https://quality.example.com/status/{committed.status_token}/"
    colleague = UserFactory(username="seller-b", teams=[roles.SALES])
    marketing = UserFactory(username="marketer", teams=[roles.MARKETING])
    seen = {}
    for user in (seller, colleague, manager, service_user, marketing):
        answer = api_as(user).get(f"/api/promises/{committed.pk}/")
        listed = api_as(user).get("/api/promises/")
        if answer.status_code == 200:
            [row] = [r for r in listed.json()["results"] if r["id"] == committed.pk]
            assert row["status_url"] == answer.json()["status_url"]
            seen[user.username] = answer.json()["status_url"]
    assert seen["seller"] == seen["seller-b"] == seen["manager"] == expected
    # a gatekeeper (and another department, where it may read the promise at all) sees no link
    assert seen.get("servicer") is None and seen.get("marketer") is None


def test_status_url_is_null_before_commitment(make_promise, seller):
    draft = make_promise()
    assert api_as(seller).get(f"/api/promises/{draft.pk}/").json()["status_url"] is None


def test_revoke_and_reissue_through_the_api(client, committed, seller, service_user):
    old = committed.status_token
    owner = api_as(seller)
    response = owner.post(f"/api/promises/{committed.pk}/status-link/revoke/", {"comment": "leaked"},
                          format="json")
    assert response.status_code == 200 and response.json()["status_url"] is None
    response = owner.post(f"/api/promises/{committed.pk}/status-link/reissue/", {}, format="json")
    assert response.status_code == 200
    new_url = response.json()["status_url"]
    assert new_url.endswith(f"/status/{refreshed(committed).status_token}/") and old not in new_url
    # a gatekeeper may not
    refused = api_as(service_user).post(f"/api/promises/{committed.pk}/status-link/revoke/", {}, format="json")
    assert refused.status_code in (403, 404)
    assert refreshed(committed).status_token is not None
    # revoking twice names the rule
    owner.post(f"/api/promises/{committed.pk}/status-link/revoke/", {}, format="json")
    again = owner.post(f"/api/promises/{committed.pk}/status-link/revoke/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"] == "no_status_link"


# --- the admin ------------------------------------------------------------------------------------

def test_admin_actions_revoke_and_reissue_through_the_services(client, committed, manager, seller):
    make_staff(manager, "view_servicepromise", "change_servicepromise")
    client.force_login(manager)
    changelist = reverse("admin:promises_servicepromise_changelist")
    old = committed.status_token
    client.post(changelist, {"action": "revoke_status_link_selected", "_selected_action": [committed.pk]})
    assert refreshed(committed).status_token is None
    client.post(changelist, {"action": "reissue_status_link_selected", "_selected_action": [committed.pk]})
    assert refreshed(committed).status_token not in (None, old)
    assert [action for action, _ in link_trail(committed)] == [
        "status_link_issued", "status_link_revoked", "status_link_reissued"]
    page = client.get(reverse("admin:promises_servicepromise_change", args=[committed.pk])).content.decode()
    assert f"/status/{refreshed(committed).status_token}/" in page


def test_the_admin_shows_the_link_only_to_those_who_speak_to_the_customer(client, committed, service_user):
    make_staff(service_user, "view_servicepromise")
    client.force_login(service_user)
    response = client.get(reverse("admin:promises_servicepromise_change", args=[committed.pk]))
    if response.status_code == 200:
        assert committed.status_token not in response.content.decode()
