"""Every path of the promise lifecycle through the gate engine, with the trail it leaves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from core.errors import IllegalTransition, ValidationFailed
from notifications.models import EventKind, OutboxEvent
from promises import services as ps
from promises.customer_view import customer_status
from promises.models import PromiseState, TransitionLog
from qualitygates import services as gs
from qualitygates import tasks
from qualitygates.conditions import ConditionInput
from qualitygates.models import ConditionState, GateCondition, GateReview, ReviewState
from tests.factories import all_checks_met
from tests.gate_flow import (
    approved,
    berlin,
    db_snapshot,
    decide,
    decide_go,
    in_delivery,
    open_review,
    promise_trail,
    refreshed,
    submitted,
)

pytestmark = pytest.mark.django_db

S = PromiseState
P, G, C, L = "promise", "gate", "condition", "link"


def reviews(promise, **filters) -> list[tuple[int, str, str]]:
    return list(GateReview.objects.filter(promise_id=promise.pk, **filters)
                .order_by("round", "order", "id").values_list("round", "name", "state"))


def event_kinds(promise) -> list[str]:
    return list(OutboxEvent.objects.filter(subject=f"promise:{promise.pk}").order_by("id").values_list("kind", flat=True))


def test_happy_path_runs_every_gate_in_order_and_logs_each_move(
        clock, make_promise, seller, service_user, legal_user, delivery_user):
    # Given a draft in a category with two approval gates, a delivery gate and a closure gate
    promise = make_promise()

    # When it goes all the way through
    ps.promise_submit(promise_id=promise.pk, user=seller, comment="Please confirm")
    assert reviews(promise) == [(1, "Feasibility", "open"), (1, "Legal check", "pending"),
                                (1, "Delivery readiness", "pending"), (1, "Fulfilment verified", "pending")]
    decide_go(promise, service_user)
    assert refreshed(promise).state == S.IN_REVIEW, "the step moves on only when its last gate passes"
    decide_go(promise, legal_user)
    assert refreshed(promise).state == S.APPROVED
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    assert refreshed(promise).state == S.COMMITTED
    decide_go(promise, delivery_user)
    assert refreshed(promise).state == S.IN_DELIVERY
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3.5"))
    assert refreshed(promise).state == S.FULFILLED
    decide_go(promise, service_user)

    # Then it is closed, kept, without rework, and the trail tells the whole story in order
    promise = refreshed(promise)
    assert promise.state == S.CLOSED
    assert promise.actual_value == Decimal("3.5")
    assert promise.rework_rounds == 0
    assert customer_status(promise.state, verified_kept=True).key == "kept"
    assert reviews(promise) == [(1, "Feasibility", "passed"), (1, "Legal check", "passed"),
                                (1, "Delivery readiness", "passed"), (1, "Fulfilment verified", "passed")]
    assert promise_trail(promise) == [
        (P, "submit", "draft", "in_review"),
        (G, "open", "pending", "open"),
        (G, "go", "open", "passed"),
        (G, "open", "pending", "open"),
        (G, "go", "open", "passed"),
        (P, "approve", "in_review", "approved"),
        (P, "commit", "approved", "committed"),
        (L, "status_link_issued", "committed", "committed"),
        (G, "open", "pending", "open"),
        (G, "go", "open", "passed"),
        (P, "start_delivery", "committed", "in_delivery"),
        (P, "verify", "in_delivery", "fulfilled"),
        (G, "open", "pending", "open"),
        (G, "go", "open", "passed"),
        (P, "close", "fulfilled", "closed"),
    ]
    submit = TransitionLog.objects.get(promise=promise, action="submit")
    assert (submit.actor, submit.comment) == (seller, "Please confirm")
    legal_go = TransitionLog.objects.get(promise=promise, action="go", gate_review__name="Legal check")
    assert legal_go.actor == legal_user
    assert TransitionLog.objects.get(promise=promise, action="approve").gate_review_id == legal_go.gate_review_id
    assert event_kinds(promise) == [
        EventKind.PROMISE_SUBMITTED, EventKind.GATE_OPENED,
        EventKind.GATE_DECIDED, EventKind.GATE_OPENED,
        EventKind.GATE_DECIDED, EventKind.PROMISE_APPROVED,
        EventKind.PROMISE_COMMITTED, EventKind.GATE_OPENED,
        EventKind.GATE_DECIDED, EventKind.PROMISE_IN_DELIVERY,
        EventKind.PROMISE_FULFILLED, EventKind.GATE_OPENED,
        EventKind.GATE_DECIDED, EventKind.PROMISE_CLOSED,
    ]


def test_customer_visible_at_moves_only_when_the_customer_label_changes(
        clock, make_promise, seller, service_user, legal_user):
    # Given a promise submitted on Monday morning
    promise = submitted(make_promise, seller)
    submitted_at = clock()
    assert refreshed(promise).customer_visible_at == submitted_at

    # When the first gate passes an hour later the customer still sees "being confirmed"
    clock.advance(hours=1)
    decide_go(promise, service_user)
    assert refreshed(promise).customer_visible_at == submitted_at

    # and a recycle to rework is still "being confirmed" for the customer
    clock.advance(hours=1)
    decide(promise, legal_user, "recycle", comment="Liability clause missing")
    assert refreshed(promise).customer_visible_at == submitted_at

    # Then approval is news to the customer: the time moves
    ps.promise_resubmit(promise_id=promise.pk, user=seller)
    decide_go(promise, service_user)
    clock.advance(hours=1)
    decide_go(promise, legal_user)
    assert refreshed(promise).customer_visible_at == clock()


def test_kill_rejects_the_promise_and_cancels_the_gates_still_to_come(
        make_promise, seller, service_user, legal_user):
    # Given a promise whose first gate passed
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)

    # When legal kills it
    decide(promise, legal_user, "kill", comment="Unlimited liability")

    # Then it is rejected, the legal gate failed with the reason, the rest cancelled
    promise = refreshed(promise)
    assert promise.state == S.REJECTED
    assert reviews(promise) == [(1, "Feasibility", "passed"), (1, "Legal check", "failed"),
                                (1, "Delivery readiness", "cancelled"), (1, "Fulfilment verified", "cancelled")]
    legal = GateReview.objects.get(promise=promise, name="Legal check")
    assert (legal.decision, legal.decided_by, legal.comment) == ("kill", legal_user, "Unlimited liability")
    assert promise_trail(promise)[-4:] == [
        (G, "kill", "open", "failed"),
        (G, "cancel", "pending", "cancelled"),
        (G, "cancel", "pending", "cancelled"),
        (P, "reject", "in_review", "rejected"),
    ]
    assert TransitionLog.objects.get(promise=promise, action="reject").comment == "Unlimited liability"
    assert event_kinds(promise)[-1] == EventKind.PROMISE_REJECTED
    # And a rejected promise goes nowhere
    with pytest.raises(IllegalTransition):
        ps.promise_commit(promise_id=promise.pk, user=seller)


def test_kill_at_the_delivery_gate_rejects_a_committed_promise(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)

    decide(promise, delivery_user, "kill", comment="No technicians in the region")

    promise = refreshed(promise)
    assert promise.state == S.REJECTED
    assert reviews(promise, step="closure") == [(1, "Fulfilment verified", "cancelled")]
    assert promise_trail(promise)[-1] == (P, "reject", "committed", "rejected")


def test_hold_pauses_the_promise_and_resume_returns_it_to_the_same_gate(
        make_promise, seller, service_user, service_user2, legal_user):
    # Given a promise in review
    promise = submitted(make_promise, seller)

    # When the service team puts its gate on hold
    decide(promise, service_user, "hold", comment="Waiting for the regional capacity plan")

    # Then the promise is on hold and remembers where it was
    promise = refreshed(promise)
    assert promise.state == S.ON_HOLD
    assert promise.state_before_hold == S.IN_REVIEW
    feasibility = GateReview.objects.get(promise=promise, name="Feasibility")
    assert feasibility.state == ReviewState.ON_HOLD
    assert feasibility.decision == "hold"
    assert customer_status(promise.state).key == "paused"

    # When a colleague resumes it
    gs.gate_resume(review_id=feasibility.pk, user=service_user2, comment="Plan arrived")

    # Then the promise is back in review with the same gate open and undecided, and can pass
    promise = refreshed(promise)
    assert (promise.state, promise.state_before_hold) == (S.IN_REVIEW, "")
    feasibility.refresh_from_db()
    assert (feasibility.state, feasibility.decision, feasibility.decided_by) == ("open", "", None)
    decide_go(promise, service_user)
    decide_go(promise, legal_user)
    assert refreshed(promise).state == S.APPROVED
    assert [t for t in promise_trail(promise) if t[1] in ("hold", "resume")] == [
        (G, "hold", "open", "on_hold"),
        (P, "hold", "in_review", "on_hold"),
        (G, "resume", "on_hold", "open"),
        (P, "resume", "on_hold", "in_review"),
    ]
    kinds = event_kinds(promise)
    assert EventKind.PROMISE_ON_HOLD in kinds and EventKind.PROMISE_RESUMED in kinds
    assert EventKind.GATE_RESUMED in kinds


def test_hold_at_the_delivery_gate_returns_to_committed(
        make_promise, seller, service_user, legal_user, delivery_user, manager):
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)

    decide(promise, delivery_user, "hold", comment="Spare parts on back order")
    assert refreshed(promise).state_before_hold == S.COMMITTED
    # A promise held after commitment can no longer be withdrawn
    with pytest.raises(IllegalTransition):
        ps.promise_withdraw(promise_id=promise.pk, user=seller)

    held = GateReview.objects.get(promise=promise, state=ReviewState.ON_HOLD)
    gs.gate_resume(review_id=held.pk, user=manager)
    assert refreshed(promise).state == S.COMMITTED
    decide_go(promise, delivery_user)
    assert refreshed(promise).state == S.IN_DELIVERY


def test_recycle_sends_to_rework_and_resubmit_starts_a_new_round_from_the_first_gate(
        make_promise, seller, service_user, legal_user):
    # Given a promise whose feasibility passed
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)

    # When legal recycles it
    decide(promise, legal_user, "recycle", comment="Add the liability cap")

    # Then it is in rework, one round counted, the round's other gates cancelled
    promise = refreshed(promise)
    assert (promise.state, promise.rework_rounds) == (S.REWORK, 1)
    assert reviews(promise) == [(1, "Feasibility", "passed"), (1, "Legal check", "recycled"),
                                (1, "Delivery readiness", "cancelled"), (1, "Fulfilment verified", "cancelled")]
    assert TransitionLog.objects.get(promise=promise, action="send_to_rework").comment == "Add the liability cap"

    # When the owner edits and resubmits
    ps.promise_update(promise_id=promise.pk, user=seller, changes=ps.PromiseChanges(description="Liability capped at 10 k EUR"))
    ps.promise_resubmit(promise_id=promise.pk, user=seller, comment="Cap added")

    # Then round 2 runs every gate again from the first
    assert reviews(promise, round=2) == [(2, "Feasibility", "open"), (2, "Legal check", "pending"),
                                         (2, "Delivery readiness", "pending"),
                                         (2, "Fulfilment verified", "pending")]
    decide_go(promise, service_user)
    decide(promise, legal_user, "recycle", comment="Cap must be per incident")
    promise = refreshed(promise)
    assert (promise.state, promise.rework_rounds) == (S.REWORK, 2)

    ps.promise_resubmit(promise_id=promise.pk, user=seller)
    decide_go(promise, service_user)
    decide_go(promise, legal_user)
    promise = refreshed(promise)
    assert (promise.state, promise.rework_rounds) == (S.APPROVED, 2)
    assert [t for t in promise_trail(promise) if t[0] == P] == [
        (P, "submit", "draft", "in_review"),
        (P, "send_to_rework", "in_review", "rework"),
        (P, "resubmit", "rework", "in_review"),
        (P, "send_to_rework", "in_review", "rework"),
        (P, "resubmit", "rework", "in_review"),
        (P, "approve", "in_review", "approved"),
    ]


def test_recycle_at_the_closure_gate_reopens_verification(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))

    decide(promise, service_user, "recycle", comment="The measurement covers only one site")

    promise = refreshed(promise)
    assert (promise.state, promise.actual_value, promise.rework_rounds) == (S.IN_DELIVERY, None, 0)
    # Verified again, a fresh closure gate opens and closes it
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3.9"))
    decide_go(promise, service_user)
    assert refreshed(promise).state == S.CLOSED
    assert reviews(promise, step="closure") == [(1, "Fulfilment verified", "recycled"),
                                                (1, "Fulfilment verified", "passed")]


@pytest.mark.parametrize("how", ["draft", "in_review", "rework", "approved", "on_hold"])
def test_withdraw_before_commitment_cancels_what_is_running(
        how, make_promise, seller, service_user, legal_user):
    promise = make_promise()
    if how != "draft":
        ps.promise_submit(promise_id=promise.pk, user=seller)
    if how == "rework":
        decide(promise, service_user, "recycle")
    elif how == "approved":
        decide_go(promise, service_user)
        decide_go(promise, legal_user)
    elif how == "on_hold":
        decide(promise, service_user, "hold")
    before = refreshed(promise).state

    ps.promise_withdraw(promise_id=promise.pk, user=seller, comment="Customer went elsewhere")

    promise = refreshed(promise)
    assert promise.state == S.WITHDRAWN
    assert not GateReview.objects.filter(promise=promise, state__in=["pending", "open", "on_hold"]).exists()
    assert promise_trail(promise)[-1] == (P, "withdraw", before, "withdrawn")
    assert customer_status(promise.state).key == "cancelled"


def test_withdraw_after_commitment_is_refused(make_promise, seller, service_user, legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    before = db_snapshot()

    with pytest.raises(IllegalTransition, match="only before commitment"):
        ps.promise_withdraw(promise_id=promise.pk, user=seller)

    assert db_snapshot() == before


def test_broken_promise_records_the_actual_value_and_reason_then_closes_as_missed(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)

    ps.promise_verify(promise_id=promise.pk, user=delivery_user, actual_value=Decimal("6.5"),
                      reason="Technician stuck in traffic on the A9")

    promise = refreshed(promise)
    assert promise.state == S.BROKEN
    assert (promise.actual_value, promise.outcome_reason) == (Decimal("6.5"), "Technician stuck in traffic on the A9")
    assert promise.verified_at is not None
    assert EventKind.PROMISE_BROKEN in event_kinds(promise)
    decide_go(promise, service_user)
    promise = refreshed(promise)
    assert promise.state == S.CLOSED
    assert customer_status(promise.state, verified_kept=False).key == "missed"


def test_broken_without_a_reason_is_refused_and_changes_nothing(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    before = db_snapshot()

    with pytest.raises(ValidationFailed, match="reason"):
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("6.5"), reason="  ")

    assert db_snapshot() == before
    assert refreshed(promise).state == S.IN_DELIVERY


# --- conditional go --------------------------------------------------------------------------------

def go_with_condition(promise, decider, owner, due_at):
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=decider, decision="go", checks=all_checks_met(review),
                   comment="Go, provided the spare-parts stock is set up",
                   conditions=[ConditionInput(description="Spare-parts stock in Munich set up", owner=owner,
                                              due_at=due_at)])
    return GateCondition.objects.get(review=review)


def test_conditional_go_passes_and_a_lapsed_condition_sends_the_promise_back_to_rework(
        clock, make_promise, seller, service_user, legal_user, delivery_user):
    # Given a feasibility go on Monday with a condition due on Wednesday noon
    promise = submitted(make_promise, seller)
    condition = go_with_condition(promise, service_user, delivery_user, due_at=berlin(2027, 1, 6, 12, 0))
    assert open_review(promise).name == "Legal check", "a conditional go is a go"
    decide_go(promise, legal_user)
    assert refreshed(promise).state == S.APPROVED

    # When the sweep runs before the due time, nothing happens
    assert gs.gate_conditions_lapse_due(now=berlin(2027, 1, 6, 11, 59)) == 0
    assert refreshed(promise).state == S.APPROVED

    # When it runs at the due time with the condition still open
    assert gs.gate_conditions_lapse_due(now=berlin(2027, 1, 6, 12, 0)) == 1

    # Then the promise is in rework with the reason, counted as a round, and its pending gates cancelled
    promise = refreshed(promise)
    assert (promise.state, promise.rework_rounds) == (S.REWORK, 1)
    condition.refresh_from_db()
    assert condition.state == ConditionState.LAPSED
    rework = TransitionLog.objects.get(promise=promise, action="send_to_rework")
    assert rework.comment == "Condition of gate 'Feasibility' lapsed: Spare-parts stock in Munich set up"
    assert rework.actor is None
    assert promise_trail(promise)[-4:] == [
        (C, "condition_lapsed", "open", "lapsed"),
        (G, "cancel", "pending", "cancelled"),
        (G, "cancel", "pending", "cancelled"),
        (P, "send_to_rework", "approved", "rework"),
    ]
    assert EventKind.CONDITION_LAPSED in event_kinds(promise)

    # And running the sweep again changes nothing
    trail_length = TransitionLog.objects.count()
    assert gs.gate_conditions_lapse_due(now=berlin(2027, 1, 7, 12, 0)) == 0
    assert TransitionLog.objects.count() == trail_length


def test_a_condition_met_in_time_never_lapses(make_promise, seller, service_user, legal_user, delivery_user):
    promise = submitted(make_promise, seller)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    condition = go_with_condition(promise, service_user, delivery_user, due_at=due)

    gs.gate_condition_meet(condition_id=condition.pk, user=delivery_user, note="Stock ready")

    assert gs.gate_conditions_lapse_due(now=due + dt.timedelta(hours=1)) == 0
    condition.refresh_from_db()
    assert (condition.state, condition.resolved_by) == (ConditionState.MET, delivery_user)
    assert promise_trail(promise)[-1] == (C, "condition_met", "open", "met")
    assert refreshed(promise).state == S.IN_REVIEW


def test_a_condition_does_not_lapse_while_the_promise_is_on_hold(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = submitted(make_promise, seller)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    go_with_condition(promise, service_user, delivery_user, due_at=due)
    decide(promise, legal_user, "hold", comment="Waiting for the framework contract")

    assert gs.gate_conditions_lapse_due(now=due + dt.timedelta(days=1)) == 0
    assert refreshed(promise).state == S.ON_HOLD

    gs.gate_resume(review_id=GateReview.objects.get(promise=promise, state="on_hold").pk, user=legal_user)
    assert gs.gate_conditions_lapse_due(now=due + dt.timedelta(days=1)) == 1
    assert refreshed(promise).state == S.REWORK


def test_ending_a_round_cancels_its_open_conditions(make_promise, seller, service_user, legal_user, delivery_user):
    # Given a conditional go, then a recycle by legal
    promise = submitted(make_promise, seller)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    condition = go_with_condition(promise, service_user, delivery_user, due_at=due)
    decide(promise, legal_user, "recycle", comment="Liability clause missing")

    # Then the condition of the abandoned round is cancelled and cannot lapse the new round
    condition.refresh_from_db()
    assert condition.state == ConditionState.CANCELLED
    assert promise_trail(promise)[-1] == (P, "send_to_rework", "in_review", "rework")
    assert (C, "condition_cancelled", "open", "cancelled") in promise_trail(promise)
    ps.promise_resubmit(promise_id=promise.pk, user=seller)
    assert gs.gate_conditions_lapse_due(now=due + dt.timedelta(hours=1)) == 0
    promise = refreshed(promise)
    assert (promise.state, promise.rework_rounds) == (S.IN_REVIEW, 1)


@pytest.mark.parametrize("end", ["kill", "withdraw"])
def test_rejecting_or_withdrawing_cancels_open_conditions(
        end, make_promise, seller, service_user, legal_user, delivery_user):
    promise = submitted(make_promise, seller)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    condition = go_with_condition(promise, service_user, delivery_user, due_at=due)

    if end == "kill":
        decide(promise, legal_user, "kill", comment="Unlimited liability")
    else:
        ps.promise_withdraw(promise_id=promise.pk, user=seller)

    condition.refresh_from_db()
    assert condition.state == ConditionState.CANCELLED
    events_before = OutboxEvent.objects.count()
    assert gs.gate_conditions_lapse_due(now=due + dt.timedelta(hours=1)) == 0
    assert OutboxEvent.objects.count() == events_before


def test_the_beat_task_lapses_overdue_conditions(clock, make_promise, seller, service_user, delivery_user):
    assert settings.CELERY_BEAT_SCHEDULE["gate-conditions-lapse"]["task"] == tasks.lapse_overdue_conditions.name
    promise = submitted(make_promise, seller)
    go_with_condition(promise, service_user, delivery_user, due_at=berlin(2027, 1, 5, 9, 0))
    assert tasks.lapse_overdue_conditions() == 0

    clock.set(berlin(2027, 1, 5, 9, 1))
    assert tasks.lapse_overdue_conditions() == 1

    assert refreshed(promise).state == S.REWORK
    assert tasks.lapse_overdue_conditions() == 0


def test_hold_at_the_closure_gate_returns_to_the_verified_state(
        make_promise, seller, service_user, service_user2, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("9"), reason="Snow on the A8")
    decide(promise, service_user, "hold", comment="Waiting for the customer's own measurement")
    assert refreshed(promise).state_before_hold == S.BROKEN

    gs.gate_resume(review_id=GateReview.objects.get(promise=promise, state="on_hold").pk, user=service_user2)

    assert refreshed(promise).state == S.BROKEN
    decide_go(promise, service_user)
    assert refreshed(promise).state == S.CLOSED


def test_a_plan_with_approval_gates_only_hands_over_and_closes_without_gates(
        make_promise, seller, service_user, legal_user, category):
    # The plan is edited before submission: no delivery and no closure gates
    category.gate_plans.get().definitions.exclude(step="approval").delete()
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)

    ps.promise_handover(promise_id=promise.pk, user=seller, comment="Straight to the field team")
    assert refreshed(promise).state == S.IN_DELIVERY
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("2"))
    assert refreshed(promise).state == S.FULFILLED

    ps.promise_close(promise_id=promise.pk, user=seller)

    assert refreshed(promise).state == S.CLOSED
    assert [t for t in promise_trail(promise) if t[0] == P][-4:] == [
        (P, "commit", "approved", "committed"),
        (P, "start_delivery", "committed", "in_delivery"),
        (P, "verify", "in_delivery", "fulfilled"),
        (P, "close", "fulfilled", "closed"),
    ]


def test_a_promise_with_a_closure_gate_is_not_closed_by_hand(
        make_promise, seller, service_user, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("2"))
    with pytest.raises(IllegalTransition, match="closure gate"):
        ps.promise_close(promise_id=promise.pk, user=seller)
    assert refreshed(promise).state == S.FULFILLED
