"""Helpers for driving promises through their gates in tests: a controllable clock, the open gate,
decisions with every check met, and snapshots of what the database holds.

Import the `clock` fixture explicitly where a test needs it (`from tests.gate_flow import clock`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from notifications.models import OutboxEvent
from promises import services as ps
from promises.models import ServicePromise, TransitionLog
from qualitygates import services as gs
from qualitygates.models import GateCheck, GateCondition, GateReview, ReviewState
from tests.factories import all_checks_met

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def berlin(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


class Clock:
    """Stands in for django.utils.timezone.now: time moves only when the test moves it."""

    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current.astimezone(dt.UTC)

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, **delta) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Monday 4 January 2027, 09:00 in Berlin, until the test moves it."""
    fake = Clock(berlin(2027, 1, 4, 9, 0))
    monkeypatch.setattr(timezone, "now", fake)
    return fake


def open_review(promise) -> GateReview:
    return GateReview.objects.get(promise_id=promise.pk, state=ReviewState.OPEN)


def decide_go(promise, user, **kwargs) -> GateReview:
    review = open_review(promise)
    return gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review), **kwargs)


def decide(promise, user, decision: str, comment: str = "Reasons given") -> GateReview:
    review = open_review(promise)
    return gs.gate_decide(review_id=review.pk, user=user, decision=decision, comment=comment)


def submitted(make_promise, seller, **overrides) -> ServicePromise:
    promise = make_promise(**overrides)
    return ps.promise_submit(promise_id=promise.pk, user=seller)


def approved(make_promise, seller, service_user, legal_user, **overrides) -> ServicePromise:
    promise = submitted(make_promise, seller, **overrides)
    decide_go(promise, service_user)
    decide_go(promise, legal_user)
    return refreshed(promise)


def in_delivery(make_promise, seller, service_user, legal_user, delivery_user) -> ServicePromise:
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    decide_go(promise, delivery_user)
    return refreshed(promise)


def refreshed(promise) -> ServicePromise:
    return ServicePromise.objects.get(pk=promise.pk)


def promise_trail(promise) -> list[tuple[str, str, str, str]]:
    """(subject, action, from, to) of every trail entry, oldest first."""
    return list(TransitionLog.objects.filter(promise_id=promise.pk).order_by("at", "id")
                .values_list("subject", "action", "from_state", "to_state"))


def db_snapshot() -> dict:
    """Everything a gate or promise service writes, to prove a refused call wrote nothing."""
    return {
        "promises": list(ServicePromise.objects.order_by("pk").values_list(
            "pk", "state", "state_before_hold", "rework_rounds", "actual_value", "title", "updated_at")),
        "reviews": list(GateReview.objects.order_by("pk").values_list(
            "pk", "state", "decision", "decided_by", "due_at", "comment")),
        "checks": list(GateCheck.objects.order_by("pk").values_list("pk", "result", "note")),
        "conditions": list(GateCondition.objects.order_by("pk").values_list("pk", "state")),
        "trail": TransitionLog.objects.count(),
        "events": OutboxEvent.objects.count(),
    }

