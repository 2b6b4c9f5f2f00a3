"""Every write service runs at the time its caller gives (`now=`), so the demo seeder and tests can
tell a story over weeks without patching timezone.now: transitions, trail rows, gate due times,
verification and conditions carry that time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from promises import services as ps
from promises.models import ServicePromise, TransitionLog
from qualitygates import services as gs
from qualitygates.conditions import ConditionInput
from qualitygates.models import GateCondition, GateReview, ReviewState
from qualitygates.selectors import team_calendar
from qualitygates.working_time import add_working_time
from tests.factories import all_checks_met
from tests.gate_flow import berlin

pytestmark = pytest.mark.django_db

MONDAY = berlin(2027, 1, 4, 9, 0)


def open_review(promise) -> GateReview:
    return GateReview.objects.get(promise=promise, state=ReviewState.OPEN)


def go(promise, user, *, now, **kwargs) -> GateReview:
    review = open_review(promise)
    return gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review), now=now,
                          **kwargs)


def test_a_whole_lifecycle_carries_the_callers_times(make_promise, seller, service_user, legal_user,
                                                     delivery_user):
    promise = make_promise(now=MONDAY)
    times = [MONDAY + dt.timedelta(days=i) for i in range(1, 8)]

    ps.promise_submit(promise_id=promise.pk, user=seller, now=times[0])
    first = open_review(promise)
    go(promise, service_user, now=times[1])
    go(promise, legal_user, now=times[2])
    ps.promise_commit(promise_id=promise.pk, user=seller, now=times[3])
    ps.promise_handover(promise_id=promise.pk, user=seller, now=times[4])
    go(promise, delivery_user, now=times[5])
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"), now=times[6])

    promise = ServicePromise.objects.get(pk=promise.pk)
    assert promise.verified_at == times[6]
    assert promise.customer_visible_at == times[6]
    first.refresh_from_db()
    assert (first.opened_at, first.decided_at) == (times[0], times[1])
    # every trail row is stamped with one of the given times, none with the wall clock
    stamps = set(TransitionLog.objects.filter(promise=promise).values_list("at", flat=True))
    assert stamps <= set(times)


def test_hold_resume_and_conditions_carry_the_callers_times(make_promise, seller, service_user, delivery_user):
    promise = make_promise(now=MONDAY)
    ps.promise_submit(promise_id=promise.pk, user=seller, now=MONDAY)
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="hold", comment="Waiting for parts",
                   now=MONDAY + dt.timedelta(hours=2))
    review.refresh_from_db()
    assert review.hold_started_at == MONDAY + dt.timedelta(hours=2)
    resumed = MONDAY + dt.timedelta(days=2)
    # the clock stood still while on hold: what was left runs from the resumption on
    expected_due = add_working_time(resumed, review.remaining_seconds_at_hold, team_calendar(review.owning_team_id))
    gs.gate_resume(review_id=review.pk, user=service_user, now=resumed)
    review.refresh_from_db()
    assert review.due_at == expected_due

    due = MONDAY + dt.timedelta(days=10)
    go(promise, service_user, now=MONDAY + dt.timedelta(days=3),
       conditions=[ConditionInput(description="Spare parts stocked", owner=delivery_user, due_at=due)])
    condition = GateCondition.objects.get()
    gs.gate_condition_meet(condition_id=condition.pk, user=delivery_user, note="Stocked",
                           now=MONDAY + dt.timedelta(days=4))
    condition.refresh_from_db()
    assert condition.resolved_at == MONDAY + dt.timedelta(days=4)
    assert TransitionLog.objects.get(action="condition_met").at == MONDAY + dt.timedelta(days=4)
