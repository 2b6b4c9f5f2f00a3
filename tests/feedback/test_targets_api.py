"""SMART targets over the API: a plan with `targets`, the old single target still accepted (its unit
kept as the metric's), refusals naming the field or the rule, and the proposed baseline."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from feedback.models import ImprovementTarget
from feedback.services import improvements as fs
from feedback.services.intake import feedback_record
from promises.models import Metric


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def accepted(manager, category):
    item = fs.improvement_propose(user=manager, title="Callback instead of queue", category_ids=[category.pk])
    fs.improvement_accept(item_id=item.pk, user=manager)
    return item


@pytest.fixture
def metrics(db):
    return (Metric.objects.create(name="average wait", unit="min", direction="lower", kind="count"),
            Metric.objects.create(name="CSAT", unit="score 1–5", direction="higher", kind="score"))


def body(owner, **extra):
    return {"owner": owner.pk, "priority": "high", "start_date": "2026-02-01", "due_date": "2026-06-30",
            "budget": "100.00", **extra}


def test_a_plan_with_two_targets(accepted, manager, owner_user, category, metrics):
    wait, csat = metrics
    targets = [
        {"metric": wait.pk, "measure": "median_actual_value", "categories": [category.pk], "baseline": "2",
         "target_value": "1", "deadline": "2027-01-31", "unit": "min"},
        {"metric": csat.pk, "measure": "csat_average", "categories": [category.pk], "channel": "survey",
         "baseline": "3.8", "target_value": "4.3", "deadline": "2027-01-31", "window_days": 180},
    ]
    response = client_for(manager).post(f"/api/improvements/{accepted.pk}/plan/",
                                        body(owner_user, targets=targets), format="json")
    assert response.status_code == 200, response.json()
    first, second = response.json()["targets"]
    assert first["metric"] == {"id": wait.pk, "name": "average wait", "name_de": "", "unit": "min",
                               "direction": "lower", "kind": "count"}
    assert (first["measure"], first["baseline"], first["target_value"]) == ("median_actual_value", "2.000", "1.000")
    assert (second["channel"], second["window_days"], second["categories"]) == ("survey", 180, [category.pk])


def test_the_plan_is_refused_without_targets_or_in_the_wrong_direction(accepted, manager, owner_user, metrics):
    boss = client_for(manager)
    response = boss.post(f"/api/improvements/{accepted.pk}/plan/", body(owner_user), format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "targets_required" and set(response.json()["fields"]) == {"targets"}
    wrong = {"metric": metrics[1].pk, "baseline": "3.8", "target_value": "3.5", "deadline": "2027-01-31"}
    response = boss.post(f"/api/improvements/{accepted.pk}/plan/", body(owner_user, targets=[wrong]), format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "target_wrong_direction"
    assert "higher is better" in response.json()["fields"]["targets[0].target_value"]
    response = boss.post(f"/api/improvements/{accepted.pk}/plan/",
                         body(owner_user, targets=[{**wrong, "target_value": "4.3", "unit": "%"}]), format="json")
    assert response.status_code == 400 and response.json()["error"] == "unit_not_metrics"
    response = boss.post(f"/api/improvements/{accepted.pk}/plan/",
                         body(owner_user, targets=[{**wrong, "metric": 999999}]), format="json")
    assert response.status_code == 400 and "metric" in str(response.json()["fields"])
    assert not ImprovementTarget.objects.exists()


def test_the_old_single_target_becomes_one_target_and_keeps_its_unit(accepted, manager, owner_user):
    legacy = {"target_metric": "first-call resolution", "unit": "%", "baseline_value": "60", "target_value": "80",
              "target_deadline": "2027-01-31"}
    response = client_for(manager).post(f"/api/improvements/{accepted.pk}/plan/", body(owner_user, **legacy),
                                        format="json")
    assert response.status_code == 200, response.json()
    [target] = response.json()["targets"]
    assert target["metric"]["unit"] == "%" and target["metric"]["direction"] == "higher"
    assert target["text"] == "first-call resolution 60 → 80 % by 2027-01-31"
    metric = Metric.objects.get(name="first-call resolution")
    assert metric.kind == "percentage"


def test_the_baseline_is_proposed_by_the_product(kvp_clock, accepted, manager, service_user, category, metrics,
                                                 django_assert_max_num_queries):
    for score in (3, 4, 5):
        feedback_record(user=service_user, kind="praise", channel="survey", category=category, csat_score=score)
    kvp_clock.advance(hours=1)
    boss = client_for(manager)
    url = f"/api/improvements/{accepted.pk}/baseline/?measure=csat_average&metric={metrics[1].pk}&window_days=30"
    with django_assert_max_num_queries(12):
        response = boss.get(url)
    assert response.status_code == 200, response.json()
    proposed = response.json()
    assert (proposed["value"], proposed["counts"], proposed["categories"]) == ("4.000", {"responses": 3},
                                                                               [category.pk])
    future = (kvp_clock.current + dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
    response = boss.get(f"{url}&until={future}")
    assert response.status_code == 400 and response.json()["error"] == "measurement_window_in_future"
    assert "until" in response.json()["fields"]


def test_guidance_is_retired_and_superseded_over_the_api_by_managers(manager, seller, category):
    from feedback.models import Guidance
    from feedback.services.guidance import guidance_publish

    first, = guidance_publish(user=manager, category_ids=[category.pk], text="Confirm capacity first.")
    second, = guidance_publish(user=manager, category_ids=[category.pk], text="No promises on holidays.")
    maker, boss = client_for(seller), client_for(manager)
    assert maker.post(f"/api/guidance/{first.pk}/retire/", {"reason": "x"}, format="json").status_code == 403
    response = boss.post(f"/api/guidance/{first.pk}/retire/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    response = boss.post(f"/api/guidance/{first.pk}/retire/", {"reason": "capacity is planned now"}, format="json")
    assert response.status_code == 200
    assert (response.json()["retired_by"], response.json()["retire_reason"]) == (manager.pk, "capacity is planned now")
    response = boss.post(f"/api/guidance/{second.pk}/supersede/",
                         {"text": "Holidays: next working day.", "reason": "holiday rota"}, format="json")
    assert response.status_code == 201
    new_id = response.json()["id"]
    assert Guidance.objects.get(pk=second.pk).superseded_by_id == new_id
    assert boss.post(f"/api/guidance/{second.pk}/retire/", {"reason": "again"},
                     format="json").json()["error"] == "guidance_retired"
    record = boss.get(f"/api/categories/{category.pk}/record/").json()
    assert [g["text"] for g in record["guidance"]] == ["Holidays: next working day."]
