"""The gates' clock: reminders at 80 % of a gate's working time, daily escalations to the managers.
The clock is moved, not waited for."""

from __future__ import annotations

from notifications.models import EventKind, OutboxEvent
from promises import services as ps
from qualitygates import clock as gate_clock
from qualitygates import services as gs
from tests.clock_support import at, open_review, recipients
from tests.factories import all_checks_met
from tests.outbox_support import drain


def test_reminder_fires_at_80_percent_of_working_time(wall_clock, make_promise, seller, service_user,
                                                      django_assert_max_num_queries):
    # given a 16-working-hour gate opened Friday 14:00: 3 h Friday, 9 h Monday, due Tuesday 12:00
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    assert review.due_at == at(2027, 3, 9, 12, 0)
    # Monday 17:00 is 80 % of the wall-clock time, but only 12 of 16 working hours: no reminder
    assert gate_clock.gate_reminders_send(now=at(2027, 3, 8, 17, 0)) == 0
    assert gate_clock.gate_reminders_send(now=at(2027, 3, 9, 8, 30)) == 0  # 12.5 h < 12.8 h
    # when 12.8 working hours have passed (Tuesday 08:48), then the team is reminded, once
    with django_assert_max_num_queries(3):
        gate_clock.gate_reviews_open_not_due(now=at(2027, 3, 9, 9, 0))
    assert gate_clock.gate_reminders_send(now=at(2027, 3, 9, 9, 0)) == 1
    assert gate_clock.gate_reminders_send(now=at(2027, 3, 9, 10, 0)) == 0
    drain()
    assert recipients(EventKind.GATE_DUE_SOON) == ["servicer"]
    assert OutboxEvent.objects.get(kind=EventKind.GATE_DUE_SOON).payload["remaining_hours"] == 3.0


def test_overdue_gate_escalates_to_managers_daily(wall_clock, make_promise, seller, service_user, manager):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)  # due Tuesday 12:00
    assert gate_clock.gate_escalations_send(now=at(2027, 3, 9, 11, 59)) == 0
    # when it is overdue, the managers get an escalation and the team an overdue notice
    assert gate_clock.gate_escalations_send(now=at(2027, 3, 9, 12, 1)) == 1
    assert gate_clock.gate_escalations_send(now=at(2027, 3, 9, 20, 0)) == 0  # same day: nothing new
    drain()
    assert recipients(EventKind.GATE_ESCALATED) == ["manager"]
    assert recipients(EventKind.GATE_OVERDUE) == ["servicer"]
    # and again 24 hours later while it stays overdue
    assert gate_clock.gate_escalations_send(now=at(2027, 3, 10, 12, 1)) == 1
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_ESCALATED).count() == 2
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_OVERDUE).count() == 1
    # once decided, it no longer escalates (the legal gate it opened is not due before Thursday 15:00)
    wall_clock.now = at(2027, 3, 10, 13, 0)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    assert gate_clock.gate_escalations_send(now=at(2027, 3, 11, 14, 59)) == 0
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_ESCALATED, payload__gate_review__id=review.pk).count() == 2
