"""A promise's whole life through the API alone, as a program would drive it (the README's curl flow)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import catalogue_metric


def _client_for(username: str) -> APIClient:
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": username, "password": "pw"}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def _decide_go(client: APIClient, promise_id: int, step: str) -> dict:
    promise = _ok(client.get(f"/api/promises/{promise_id}/"))
    gate = next(g for g in promise["gates"] if g["state"] == "open" and g["step"] == step)
    checks = [{"check": c["id"], "result": "met"} for c in gate["checks"]]
    return _ok(client.post(f"/api/gates/{gate['id']}/decide/", {"decision": "go", "checks": checks,
                                                                 "comment": "Fine"}, format="json"))


@pytest.mark.django_db
def test_promise_from_draft_to_closed_through_the_api(seller, service_user, legal_user, delivery_user, category,
                                                      customer):
    maker, service, legal, delivery = (_client_for(u.username) for u in (seller, service_user, legal_user,
                                                                          delivery_user))
    # the maker records and submits a promise
    created = _ok(maker.post("/api/promises/", {
        "title": "Technician on site within 4 hours", "category": category.pk, "customer": customer.pk,
        "origin_department": "sales", "channel": "contract", "metric": catalogue_metric(category).pk,
        "comparison": "lte", "target_value": "4", "unit": "h", "due_date": "2027-03-31",
    }, format="json"), 201)
    assert created["state"] == "draft" and created["owner"]["username"] == "seller"
    pid = created["id"]
    submitted = _ok(maker.post(f"/api/promises/{pid}/submit/", {"comment": "Please check"}, format="json"))
    assert submitted["state"] == "in_review"

    # the service team finds its gate in its list and passes it; legal passes the second
    mine = _ok(service.get("/api/gates/", {"state": "open"}))
    assert [g["promise"] for g in mine["results"]] == [pid]
    _decide_go(service, pid, "approval")
    gate = _decide_go(legal, pid, "approval")
    assert gate["state"] == "passed" and gate["decided_by"]["username"] == "lawyer"
    assert _ok(maker.get(f"/api/promises/{pid}/"))["state"] == "approved"

    # committed, handed over, delivery gate passed, verified as kept, closure gate passed
    assert _ok(maker.post(f"/api/promises/{pid}/commit/", {}, format="json"))["state"] == "committed"
    _ok(maker.post(f"/api/promises/{pid}/handover/", {}, format="json"))
    _decide_go(delivery, pid, "delivery")
    verified = _ok(maker.post(f"/api/promises/{pid}/verify/", {"actual_value": "3.5"}, format="json"))
    assert verified["state"] == "fulfilled" and verified["customer_status"] == "verifying"
    _decide_go(service, pid, "closure")
    closed = _ok(maker.get(f"/api/promises/{pid}/"))
    assert closed["state"] == "closed" and closed["customer_status"] == "kept"

    # the trail holds every step, in order, with who did it
    trail = _ok(maker.get(f"/api/promises/{pid}/trail/", {"page_size": 100}))["results"]
    promise_moves = [(t["from_state"], t["to_state"]) for t in trail if t["subject"] == "promise"]
    assert promise_moves == [("draft", "in_review"), ("in_review", "approved"), ("approved", "committed"),
                             ("committed", "in_delivery"), ("in_delivery", "fulfilled"), ("fulfilled", "closed")]
    assert trail[0]["actor"]["username"] == "seller"


@pytest.mark.django_db
def test_recycle_rework_and_resubmit_through_the_api(api, make_promise, seller):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = promise.gate_reviews.get(state="open")
    recycled = api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {"decision": "recycle", "comment":
                                                                    "Capacity unclear"}, format="json")
    assert recycled.status_code == 200 and recycled.json()["state"] == "recycled"
    # the owner edits the promise in rework and resubmits it: a new round opens the first gate again
    edited = api("maker").patch(f"/api/promises/{promise.pk}/", {"target_value": "6"}, format="json")
    assert edited.status_code == 200 and edited.json()["target_value"] == "6.000"
    resubmitted = api("maker").post(f"/api/promises/{promise.pk}/resubmit/", {}, format="json").json()
    assert resubmitted["state"] == "in_review" and resubmitted["rework_rounds"] == 1
    assert [g["round"] for g in resubmitted["gates"] if g["state"] == "open"] == [2]


@pytest.mark.django_db
def test_hold_and_resume_through_the_api(api, make_promise, seller):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = promise.gate_reviews.get(state="open")
    held = api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {"decision": "hold", "comment": "Waiting"},
                              format="json").json()
    assert held["state"] == "on_hold"
    assert api("maker").get(f"/api/promises/{promise.pk}/").json()["state"] == "on_hold"
    resumed = api("manager").post(f"/api/gates/{gate.pk}/resume/", {"comment": "Go on"}, format="json").json()
    assert resumed["state"] == "open"
    assert api("maker").get(f"/api/promises/{promise.pk}/").json()["state"] == "in_review"


@pytest.mark.django_db
def test_conditional_go_and_meeting_the_condition(api, make_promise, seller, service_user2):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = promise.gate_reviews.get(state="open")
    checks = [{"check": c.pk, "result": "met"} for c in gate.checks.all()]
    decided = api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {
        "decision": "go", "checks": checks,
        "conditions": [{"description": "Spare parts in stock", "owner": service_user2.pk,
                        "due_at": "2030-01-01T12:00:00+01:00"}],
    }, format="json")
    assert decided.status_code == 200, decided.content
    condition = decided.json()["conditions"][0]
    assert condition["state"] == "open" and condition["owner"] == service_user2.pk
    met = api("gk_own").post(f"/api/gate-conditions/{condition['id']}/meet/", {"note": "Delivered"},
                             format="json")
    assert met.status_code == 200 and met.json()["state"] == "met"


@pytest.mark.django_db
@pytest.mark.parametrize("decision", ["go", "kill"])
def test_the_answer_to_a_decision_is_the_gate_as_read_back(api, make_promise, seller, service_user2, decision):
    # The decision answers from what it wrote (no second read): it must equal the gate's detail.
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = promise.gate_reviews.get(state="open")
    body = {"decision": decision, "comment": "Reasons given",
            "checks": [{"check": c.pk, "result": "met"} for c in gate.checks.all()]}
    if decision == "go":
        body["conditions"] = [
            {"description": "Later", "owner": service_user2.pk, "due_at": "2030-02-01T12:00:00+01:00"},
            {"description": "Sooner", "owner": service_user2.pk, "due_at": "2030-01-01T12:00:00+01:00"}]
    decided = api("gk_own").post(f"/api/gates/{gate.pk}/decide/", body, format="json")
    assert decided.status_code == 200, decided.content
    assert decided.json() == api("gk_own").get(f"/api/gates/{gate.pk}/").json()
    assert len(decided.json()["checks"]) == gate.checks.count()
