"""A running promise keeps the gate plan it was submitted with; changes apply to promises submitted later."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core import roles
from promises import services as ps
from qualitygates.models import GateCriterion, GateDefinition, GatePlan, GateReview, GateStep, Requirement
from tests.factories import GateCriterionFactory, GateDefinitionFactory, GatePlanFactory
from tests.gate_flow import decide, decide_go, open_review, refreshed, submitted

pytestmark = pytest.mark.django_db


def gates_of(promise, round_no: int = 1) -> list[tuple]:
    """(name, step, team, hours, [(text, requirement, weight)]) of each gate of one round."""
    result = []
    for review in (GateReview.objects.filter(promise_id=promise.pk, round=round_no)
                   .select_related("owning_team").prefetch_related("checks").order_by("order")):
        result.append((review.name, review.step, review.owning_team.name, review.decision_hours,
                       [(c.text, c.requirement, c.weight) for c in review.checks.all()]))
    return result


def edit_the_plan(plan: GatePlan) -> None:
    """What a manager does in the admin: rename, re-time, re-word, drop and add gates and criteria."""
    feasibility = plan.definitions.get(name="Feasibility")
    feasibility.name, feasibility.decision_hours = "Feasibility (regional)", 4
    feasibility.save()
    capacity = feasibility.criteria.get(requirement=Requirement.MUST)
    capacity.text, capacity.weight = "Regional capacity confirmed in writing", 5
    capacity.save()
    feasibility.criteria.filter(requirement=Requirement.SHOULD).delete()
    GateCriterionFactory(definition=feasibility, text="Stand-by roster checked", requirement=Requirement.MUST,
                         order=3)
    plan.definitions.get(name="Legal check").delete()
    GateDefinitionFactory(plan=plan, name="Pricing", step=GateStep.APPROVAL, order=2,
                          owning_team=Group.objects.get(name=roles.SERVICE), decision_hours=8)


SUBMITTED_SNAPSHOT = [
    ("Feasibility", "approval", "service", 16,
     [("Feasibility: capacity confirmed", "must", 1), ("Feasibility: documented", "should", 1)]),
    ("Legal check", "approval", "legal", 16,
     [("Legal check: capacity confirmed", "must", 1), ("Legal check: documented", "should", 1)]),
    ("Delivery readiness", "delivery", "delivery", 16,
     [("Delivery readiness: capacity confirmed", "must", 1), ("Delivery readiness: documented", "should", 1)]),
    ("Fulfilment verified", "closure", "service", 16,
     [("Fulfilment verified: capacity confirmed", "must", 1), ("Fulfilment verified: documented", "should", 1)]),
]


def test_editing_the_plan_does_not_change_a_running_promise(category, make_promise, seller, service_user):
    # Given a promise submitted with the standard plan
    promise = submitted(make_promise, seller)
    assert gates_of(promise) == SUBMITTED_SNAPSHOT
    due_before = open_review(promise).due_at

    # When a manager edits that plan
    edit_the_plan(GatePlan.objects.get(category=category))

    # Then the running promise's gates, criteria and time limits are as submitted
    assert gates_of(promise) == SUBMITTED_SNAPSHOT
    review = open_review(promise)
    assert (review.name, review.due_at) == ("Feasibility", due_before)
    # and the legal gate that no longer exists in the plan still runs for it, on its own checks
    decide_go(promise, service_user)
    assert open_review(promise).name == "Legal check"
    assert GateReview.objects.get(promise=promise, name="Legal check").definition is None


def test_a_resubmitted_round_runs_on_the_snapshot_not_on_the_edited_plan(
        category, make_promise, seller, service_user):
    promise = submitted(make_promise, seller)
    edit_the_plan(GatePlan.objects.get(category=category))

    decide(promise, service_user, "recycle", comment="Wrong region")
    ps.promise_resubmit(promise_id=promise.pk, user=seller)

    assert gates_of(promise, round_no=2) == SUBMITTED_SNAPSHOT
    assert open_review(promise).round == 2


def test_a_promise_submitted_after_the_edit_gets_the_edited_plan(category, make_promise, seller):
    running = submitted(make_promise, seller)
    edit_the_plan(GatePlan.objects.get(category=category))

    later = submitted(make_promise, seller, title="Technician within 2 hours")

    gates = gates_of(later)
    assert [(name, hours) for name, _, _, hours, _ in gates] == [
        ("Feasibility (regional)", 4), ("Pricing", 8), ("Delivery readiness", 16), ("Fulfilment verified", 16)]
    assert gates[0][4] == [("Regional capacity confirmed in writing", "must", 5),
                           ("Stand-by roster checked", "must", 1)]
    assert gates_of(running) == SUBMITTED_SNAPSHOT


def test_a_new_plan_version_applies_to_new_promises_only(category, make_promise, seller):
    running = submitted(make_promise, seller)
    v1 = refreshed(running).gate_plan
    v2 = GatePlanFactory(category=category, version=2, name="On-site service plan v2")
    definition = GateDefinitionFactory(plan=v2, name="Quick check", step=GateStep.APPROVAL,
                                       owning_team=Group.objects.get(name=roles.SERVICE), order=1)
    GateCriterionFactory(definition=definition, text="Within the service area", requirement=Requirement.MUST)

    later = submitted(make_promise, seller)

    assert refreshed(later).gate_plan == v2
    assert [g[0] for g in gates_of(later)] == ["Quick check"]
    assert refreshed(running).gate_plan == v1
    assert gates_of(running) == SUBMITTED_SNAPSHOT


def test_removing_a_criterion_from_the_plan_keeps_the_check_of_a_running_promise(
        category, make_promise, seller, service_user):
    promise = submitted(make_promise, seller)
    GateCriterion.objects.filter(definition__plan__category=category).delete()
    GateDefinition.objects.filter(plan__category=category, name="Feasibility").update(decision_hours=1)

    review = decide_go(promise, service_user)

    review.refresh_from_db()
    assert [(c.text, c.result, c.criterion_id) for c in review.checks.all()] == [
        ("Feasibility: capacity confirmed", "met", None), ("Feasibility: documented", "met", None)]
