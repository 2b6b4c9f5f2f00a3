"""The KVP part of the REST API: thin over the services, JSON errors, bounded queries."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from feedback.models import Feedback, ImprovementItem
from feedback.services.guidance import guidance_publish
from feedback.services.intake import feedback_record
from promises.models import PromiseState


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_feedback_create_list_and_errors(service_user, category, django_assert_max_num_queries):
    api = client_for(service_user)
    response = api.post("/api/feedback/", {"kind": "complaint", "channel": "phone", "category": category.pk,
                                           "csat_score": 2, "text": "late"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["csat_score"] == 2
    response = api.post("/api/feedback/", {"kind": "complaint", "channel": "phone", "category": category.pk,
                                           "csat_score": 6}, format="json")
    assert response.status_code == 400 and "csat_score" in response.json()["fields"]
    response = api.post("/api/feedback/", {"kind": "complaint", "channel": "phone", "category": 987654,
                                           "text": "x"}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "invalid"
    assert response.json()["fields"] == {"category": "Category 987654 does not exist."}
    response = api.post("/api/feedback/", {"kind": "complaint", "channel": "phone", "category": category.pk},
                        format="json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_feedback"
    assert set(response.json()["fields"]) == {"text"}
    for _ in range(3):
        feedback_record(user=service_user, kind="praise", channel="chat", category=category, text="ok")
    with django_assert_max_num_queries(3):
        response = api.get("/api/feedback/?kind=praise")
    assert response.status_code == 200 and response.json()["count"] == 3


def test_feedback_import_endpoint(service_user, category):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = client_for(service_user)
    bad = SimpleUploadedFile("f.csv", b"kind,channel,text,category\nrant,phone,x,on-site-service\n")
    response = api.post("/api/feedback/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400 and "line 2" in response.json()["fields"]
    good = SimpleUploadedFile("f.csv", b"kind,channel,text,category\ncomplaint,phone,x,on-site-service\n")
    response = api.post("/api/feedback/import/", {"file": good}, format="multipart")
    assert response.status_code == 201 and response.json()["imported"] == 1
    assert Feedback.objects.count() == 1


def test_improvement_lifecycle_over_the_api(manager, seller, owner_user, category, django_assert_max_num_queries):
    maker, boss = client_for(seller), client_for(manager)
    response = maker.post("/api/improvements/", {"title": "Roster check", "categories": [category.pk]},
                          format="json")
    assert response.status_code == 201
    item_id = response.json()["id"]
    assert maker.post(f"/api/improvements/{item_id}/accept/", {}, format="json").status_code == 403
    assert boss.post(f"/api/improvements/{item_id}/start/", {}, format="json").status_code == 409
    assert boss.post(f"/api/improvements/{item_id}/accept/", {}, format="json").status_code == 200
    plan = {"owner": owner_user.pk, "priority": "high", "start_date": "2026-02-01", "due_date": "2026-06-30",
            "budget": "100.00", "target_metric": "wait (min)", "baseline_value": "2", "target_value": "1",
            "target_deadline": "2027-06-30"}
    response = boss.post(f"/api/improvements/{item_id}/plan/", {**plan, "target_deadline": None}, format="json")
    assert response.status_code == 400
    assert boss.post(f"/api/improvements/{item_id}/plan/", plan, format="json").status_code == 200
    owner = client_for(owner_user)
    assert owner.post(f"/api/improvements/{item_id}/start/", {}, format="json").status_code == 200
    assert owner.post(f"/api/improvements/{item_id}/check/", {"measured_value": "1.1"}, format="json").status_code == 200
    response = boss.post(f"/api/improvements/{item_id}/standardize/",
                         {"guidance_text": "Check the roster first."}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "standardized"
    [target] = body["targets"]
    assert target["text"] == "wait 2 → 1 min by 2027-06-30" and target["metric"]["unit"] == "min"
    assert target["manual_value"] == "1.100" and target["reached"] is False and body["target_met"] is False
    assert [t["action"] for t in body["trail"]] == ["propose", "accept", "plan", "start", "check_effect",
                                                    "standardize"]
    with django_assert_max_num_queries(6):  # the targets and their scope: two prefetches, whatever the count
        assert boss.get("/api/improvements/?state=standardized").json()["count"] == 1
    assert ImprovementItem.objects.get().state == "standardized"


def test_category_record_and_submit_with_acknowledgement(manager, seller, make_promise, category):
    guidance, = guidance_publish(user=manager, category_ids=[category.pk], text="Check the roster first.")
    api = client_for(seller)
    record = api.get(f"/api/categories/{category.pk}/record/").json()
    assert [g["text"] for g in record["guidance"]] == ["Check the roster first."]
    assert (record["made"], record["kept"], record["broken"], record["keep_rate"]) == (0, 0, 0, None)
    assert api.get("/api/categories/987654/record/").status_code == 404

    promise = make_promise()
    response = api.post(f"/api/promises/{promise.pk}/submit/", {}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "guidance_not_acknowledged"
    response = api.post(f"/api/promises/{promise.pk}/submit/", {"acknowledged_guidance_ids": [guidance.pk]},
                        format="json")
    assert response.status_code == 200 and response.json()["state"] == PromiseState.IN_REVIEW


def test_bad_ids_and_unknown_items(manager):
    api = client_for(manager)
    assert api.get("/api/improvements/99999999/").status_code == 404
    assert api.post("/api/improvements/99999999/accept/", {}, format="json").status_code == 404
    assert api.get("/api/feedback/99999999/").status_code == 404
    assert api.post("/api/improvements/", {"title": "x", "feedback": [0]}, format="json").status_code == 400
