"""Improvement items: every PDCA transition, its guards, its trail, and what standardizing publishes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.errors import CommonErrorCode, Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from feedback.error_codes import FeedbackErrorCode
from feedback.models import (
    Guidance,
    ImprovementItem,
    ImprovementState,
    ImprovementTarget,
    ImprovementTransition,
)
from feedback.services import improvements as fs
from feedback.services.targets import TargetInput
from notifications.models import EventKind, OutboxEvent
from promises import services as ps
from promises.models import Metric
from qualitygates.models import GateCheck, GateCriterion, GatePlan, GateReview
from qualitygates.selectors import gate_plan_current

S = ImprovementState

WAIT = TargetInput(metric_name="average wait (min)", baseline=Decimal("2"), target_value=Decimal("1"),
                   deadline=dt.date(2027, 6, 30))
SMART = {
    "priority": "high", "start_date": dt.date(2026, 2, 1), "due_date": dt.date(2026, 6, 30),
    "budget": Decimal("5000"), "targets": [WAIT],
}


@pytest.fixture
def proposed(seller, category):
    return fs.improvement_propose(user=seller, title="Shorter hotline wait", description="Customers wait too long",
                                  category_ids=[category.pk])


def to_state(item, state, manager, owner):
    """Walk an item along the main path up to `state`, through the services."""
    path = [S.ACCEPTED, S.PLANNED, S.IN_PROGRESS, S.CHECKING]
    for step in path[: path.index(state) + 1]:
        if step == S.ACCEPTED:
            fs.improvement_accept(item_id=item.pk, user=manager)
        elif step == S.PLANNED:
            fs.improvement_plan(item_id=item.pk, user=manager, owner=owner, **SMART)
        elif step == S.IN_PROGRESS:
            fs.improvement_start(item_id=item.pk, user=owner)
        elif step == S.CHECKING:
            fs.improvement_check(item_id=item.pk, user=owner, measured_value=Decimal("1.2"), note="measured in May")
    item.refresh_from_db()
    return item


def test_propose_records_trail_and_event(proposed, seller, category):
    assert proposed.state == S.PROPOSED
    assert list(proposed.categories.all()) == [category]
    entry = ImprovementTransition.objects.get(item=proposed)
    assert (entry.action, entry.from_state, entry.to_state, entry.actor) == ("propose", "", S.PROPOSED, seller)
    assert OutboxEvent.objects.filter(kind=EventKind.IMPROVEMENT_PROPOSED, payload__improvement=proposed.pk).exists()


def test_propose_needs_a_team_and_known_links(db, category):
    from tests.factories import UserFactory

    outsider = UserFactory(username="outsider")
    with pytest.raises(NotAllowed):
        fs.improvement_propose(user=outsider, title="x")
    member = UserFactory(username="member", teams=["sales"])
    with pytest.raises(ValidationFailed, match="unknown") as exc:
        fs.improvement_propose(user=member, title="x", category_ids=[category.pk, 999999])
    assert exc.value.code == FeedbackErrorCode.UNKNOWN_LINK
    assert not ImprovementItem.objects.exists()


def test_main_path_logs_every_transition(proposed, manager, owner_user):
    item = to_state(proposed, S.CHECKING, manager, owner_user)
    assert item.state == S.CHECKING
    target = item.targets.get()
    assert target.manual_value == Decimal("1.2") and item.measured_at is not None
    assert item.target_text == "average wait 2 → 1 min by 2027-06-30"
    assert target.reached is False and item.target_met is False  # 1.2 min measured against a target of 1 min, coming down from 2
    fs.improvement_standardize(item_id=item.pk, user=manager, guidance_text="Promise at most 1 min wait.")
    item.refresh_from_db()
    assert item.state == S.STANDARDIZED and item.standardized_at is not None
    trail = list(ImprovementTransition.objects.filter(item=item).values_list("action", "from_state", "to_state"))
    assert trail == [
        ("propose", "", "proposed"), ("accept", "proposed", "accepted"), ("plan", "accepted", "planned"),
        ("start", "planned", "in_progress"), ("check_effect", "in_progress", "checking"),
        ("standardize", "checking", "standardized"),
    ]
    assert OutboxEvent.objects.filter(kind=EventKind.IMPROVEMENT_CHANGED, payload__improvement=item.pk).count() == 5


def test_the_trail_is_append_only(proposed):
    entry = ImprovementTransition.objects.get(item=proposed)
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        ImprovementTransition.objects.filter(item=proposed).delete()


@pytest.mark.parametrize("service", ["improvement_accept", "improvement_reject", "improvement_abandon"])
def test_manager_only_transitions_refuse_others(proposed, seller, service):
    with pytest.raises(NotAllowed, match="Only a manager") as exc:
        getattr(fs, service)(item_id=proposed.pk, user=seller, comment="because")
    # One code for every manager-only refusal (this one was `not_allowed`, guidance's `not_manager`).
    assert exc.value.code == CommonErrorCode.NOT_MANAGER == "not_manager"
    proposed.refresh_from_db()
    assert proposed.state == S.PROPOSED


def test_plan_requires_a_smart_plan(proposed, manager, owner_user):
    fs.improvement_accept(item_id=proposed.pk, user=manager)
    unreachable = {**SMART, "budget": Decimal("-1"), "targets": [
        replace(WAIT, target_value=WAIT.baseline), replace(WAIT, metric_name=" ")]}
    with pytest.raises(ValidationFailed) as exc:
        fs.improvement_plan(item_id=proposed.pk, user=manager, owner=owner_user, **unreachable)
    assert exc.value.code == FeedbackErrorCode.PLAN_INCOMPLETE == "plan_incomplete"
    assert set(exc.value.fields) == {"budget", "targets[0].target_value", "targets[1].metric"}
    owner_user.is_active = False
    with pytest.raises(ValidationFailed) as exc:
        fs.improvement_plan(item_id=proposed.pk, user=manager, owner=owner_user,
                            **{**SMART, "due_date": dt.date(2026, 1, 1),
                               "targets": [replace(WAIT, deadline=dt.date(2026, 1, 1))]})
    assert set(exc.value.fields) == {"owner", "due_date", "targets[0].deadline"}
    proposed.refresh_from_db()
    assert proposed.state == S.ACCEPTED and proposed.owner is None


def test_plan_only_from_accepted(proposed, manager, owner_user):
    with pytest.raises(IllegalTransition, match="Proposed cannot plan"):
        fs.improvement_plan(item_id=proposed.pk, user=manager, owner=owner_user, **SMART)


def test_database_refuses_a_target_that_is_no_change(proposed):
    metric = Metric.objects.create(name="wait", unit="min", direction="lower", kind="count")
    with pytest.raises(IntegrityError), transaction.atomic():
        ImprovementTarget.objects.create(item=proposed, metric=metric, baseline=Decimal("1"),
                                         target_value=Decimal("1"), deadline=dt.date(2027, 1, 1))


def test_database_refuses_planned_without_plan(proposed):
    # The FSM field is protected; a raw update is the only way to try it, and the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        ImprovementItem.objects.filter(pk=proposed.pk).update(state=S.PLANNED)


def test_owner_may_start_and_check_but_a_stranger_may_not(proposed, manager, owner_user, legal_user):
    to_state(proposed, S.PLANNED, manager, owner_user)
    with pytest.raises(NotAllowed, match="manager or the item's owner") as exc:
        fs.improvement_start(item_id=proposed.pk, user=legal_user)
    assert exc.value.code == CommonErrorCode.NOT_ALLOWED
    fs.improvement_start(item_id=proposed.pk, user=owner_user)
    with pytest.raises(NotAllowed):
        fs.improvement_check(item_id=proposed.pk, user=legal_user, measured_value=Decimal("1"))
    fs.improvement_check(item_id=proposed.pk, user=owner_user, measured_value=Decimal("1.5"))
    proposed.refresh_from_db()
    assert proposed.state == S.CHECKING and proposed.targets.get().manual_value == Decimal("1.5")


def test_rework_goes_back_to_in_progress_with_a_reason(proposed, manager, owner_user):
    to_state(proposed, S.CHECKING, manager, owner_user)
    with pytest.raises(ValidationFailed, match="comment") as exc:
        fs.improvement_rework(item_id=proposed.pk, user=owner_user, comment=" ")
    assert exc.value.code == FeedbackErrorCode.COMMENT_REQUIRED
    fs.improvement_rework(item_id=proposed.pk, user=owner_user, comment="target missed: 1.2 min")
    proposed.refresh_from_db()
    assert proposed.state == S.IN_PROGRESS


def test_reject_needs_a_reason_and_only_before_planning(proposed, manager, owner_user):
    with pytest.raises(ValidationFailed, match="comment"):
        fs.improvement_reject(item_id=proposed.pk, user=manager, comment="")
    fs.improvement_reject(item_id=proposed.pk, user=manager, comment="duplicate of #1")
    proposed.refresh_from_db()
    assert proposed.state == S.REJECTED
    with pytest.raises(IllegalTransition):
        fs.improvement_accept(item_id=proposed.pk, user=manager)


@pytest.mark.parametrize("state", [S.ACCEPTED, S.PLANNED, S.IN_PROGRESS, S.CHECKING])
def test_abandon_from_every_running_state(proposed, manager, owner_user, state):
    to_state(proposed, state, manager, owner_user)
    fs.improvement_abandon(item_id=proposed.pk, user=manager, comment="budget cut")
    proposed.refresh_from_db()
    assert proposed.state == S.ABANDONED


def test_abandon_not_from_proposed_or_standardized(proposed, manager, owner_user):
    with pytest.raises(IllegalTransition):
        fs.improvement_abandon(item_id=proposed.pk, user=manager, comment="x")
    to_state(proposed, S.CHECKING, manager, owner_user)
    fs.improvement_standardize(item_id=proposed.pk, user=manager, guidance_text="g")
    with pytest.raises(IllegalTransition):
        fs.improvement_abandon(item_id=proposed.pk, user=manager, comment="x")


def test_standardize_needs_checking_a_manager_and_a_lesson(proposed, manager, owner_user):
    to_state(proposed, S.IN_PROGRESS, manager, owner_user)
    with pytest.raises(IllegalTransition):
        fs.improvement_standardize(item_id=proposed.pk, user=manager, guidance_text="g")
    fs.improvement_check(item_id=proposed.pk, user=owner_user, measured_value=Decimal("1"))
    with pytest.raises(NotAllowed):
        fs.improvement_standardize(item_id=proposed.pk, user=owner_user, guidance_text="g")
    with pytest.raises(ValidationFailed, match="lesson") as exc:
        fs.improvement_standardize(item_id=proposed.pk, user=manager)
    assert exc.value.code == FeedbackErrorCode.LESSON_REQUIRED
    with pytest.raises(ValidationFailed) as exc:
        fs.improvement_standardize(item_id=proposed.pk, user=manager, criteria_changes=[
            {"definition_id": 987654, "text": "x"}])
    assert exc.value.code == FeedbackErrorCode.UNKNOWN_DEFINITION
    assert not Guidance.objects.exists()


def test_standardize_publishes_guidance_on_the_categories(proposed, manager, owner_user, category):
    to_state(proposed, S.CHECKING, manager, owner_user)
    fs.improvement_standardize(item_id=proposed.pk, user=manager,
                               guidance_text="Check technician capacity before promising 4 h.")
    guidance = Guidance.objects.get()
    assert (guidance.category, guidance.improvement_id, guidance.retired_at) == (category, proposed.pk, None)
    event = OutboxEvent.objects.get(kind=EventKind.GUIDANCE_PUBLISHED)
    assert event.payload["category"] == category.pk


def test_standardize_with_a_criterion_change_makes_a_new_plan_version(
        proposed, manager, owner_user, category, make_promise, seller):
    running = make_promise(title="running")
    ps.promise_submit(promise_id=running.pk, user=seller)
    plan_v1 = gate_plan_current(category_id=category.pk)
    feasibility = plan_v1.definitions.get(name="Feasibility")
    old_criterion = feasibility.criteria.get(order=1)
    to_state(proposed, S.CHECKING, manager, owner_user)

    fs.improvement_standardize(item_id=proposed.pk, user=manager, criteria_changes=[
        {"definition_id": feasibility.pk, "text": "Technician roster checked for the promised window"},
        {"definition_id": feasibility.pk, "replaces_criterion_id": old_criterion.pk,
         "text": "Capacity confirmed in writing", "requirement": "must"},
    ])

    plan_v2 = gate_plan_current(category_id=category.pk)
    assert (plan_v2.version, plan_v2.category) == (2, category)
    assert "Improvement #" in plan_v2.change_note
    assert plan_v2.definitions.count() == plan_v1.definitions.count() == 4
    new_feasibility = plan_v2.definitions.get(name="Feasibility")
    assert list(new_feasibility.criteria.values_list("text", flat=True)) == [
        "Capacity confirmed in writing", "Feasibility: documented",
        "Technician roster checked for the promised window"]
    # The old version is untouched, and the running promise keeps its snapshot.
    assert list(feasibility.criteria.values_list("text", flat=True)) == [
        "Feasibility: capacity confirmed", "Feasibility: documented"]
    running.refresh_from_db()
    assert running.gate_plan_id == plan_v1.pk
    assert set(GateCheck.objects.filter(review__promise=running, review__name="Feasibility")
               .values_list("text", flat=True)) == {"Feasibility: capacity confirmed", "Feasibility: documented"}
    # A promise submitted afterwards runs the new version.
    later = make_promise(title="later")
    ps.promise_submit(promise_id=later.pk, user=seller)
    later.refresh_from_db()
    assert later.gate_plan_id == plan_v2.pk
    review = GateReview.objects.get(promise=later, name="Feasibility")
    assert review.checks.count() == 3
    proposed.refresh_from_db()
    assert proposed.state == S.STANDARDIZED
    assert set(proposed.gate_definitions.values_list("pk", flat=True)) == {feasibility.pk}


def test_a_bad_criterion_change_leaves_everything_as_it_was(proposed, manager, owner_user, category):
    to_state(proposed, S.CHECKING, manager, owner_user)
    feasibility = gate_plan_current(category_id=category.pk).definitions.get(name="Feasibility")
    with pytest.raises(ValidationFailed):
        fs.improvement_standardize(item_id=proposed.pk, user=manager, guidance_text="g", criteria_changes=[
            {"definition_id": feasibility.pk, "text": ""}])
    assert GatePlan.objects.filter(category=category).count() == 1
    assert not Guidance.objects.exists()
    proposed.refresh_from_db()
    assert proposed.state == S.CHECKING
    assert GateCriterion.objects.filter(definition__plan__category=category).count() == 8


def test_a_criterion_change_applies_only_to_the_current_version(proposed, manager, owner_user, category):
    to_state(proposed, S.CHECKING, manager, owner_user)
    from qualitygates.versioning import gate_plan_revise

    plan_v1 = gate_plan_current(category_id=category.pk)
    feasibility = plan_v1.definitions.get(name="Feasibility")
    gate_plan_revise(plan_id=plan_v1.pk, change_note="v2", criteria_changes=[
        {"definition_id": feasibility.pk, "text": "new"}])
    with pytest.raises(Conflict, match="not the current version"):
        fs.improvement_standardize(item_id=proposed.pk, user=manager, criteria_changes=[
            {"definition_id": feasibility.pk, "text": "stale"}])
    assert GatePlan.objects.filter(category=category).count() == 2


@pytest.mark.parametrize("unknown", [99999999, 2**63 - 1])
def test_unknown_items_are_not_found(manager, unknown):
    with pytest.raises(NotFound):
        fs.improvement_accept(item_id=unknown, user=manager)


def test_unknown_link_ids_are_refused(seller):
    with pytest.raises(ValidationFailed, match="unknown") as exc:
        fs.improvement_propose(user=seller, title="x", feedback_ids=[424242])
    assert exc.value.code == FeedbackErrorCode.UNKNOWN_LINK
    assert exc.value.fields == {"feedback_ids": "unknown id(s): 424242"}


def test_the_trail_and_the_item_carry_the_given_time(proposed, manager, owner_user):
    at = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
    to_state(proposed, S.IN_PROGRESS, manager, owner_user)
    fs.improvement_check(item_id=proposed.pk, user=owner_user, measured_value=Decimal("1"), now=at)
    fs.improvement_standardize(item_id=proposed.pk, user=manager, guidance_text="g", now=at)
    proposed.refresh_from_db()
    assert proposed.measured_at == proposed.standardized_at == at
    assert list(proposed.trail.filter(at=at).values_list("action", flat=True)) == ["check_effect", "standardize"]
    assert Guidance.objects.get().published_at == at
