"""Fixtures of the KVP tests: a clock the test moves, and promises driven through their gates to a
verified outcome (kept or broken) at a known time — all through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from promises import services as ps
from qualitygates import services as gs
from qualitygates.models import GateReview, ReviewState
from tests.factories import UserFactory, all_checks_met

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, start: dt.datetime):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def set(self, when: dt.datetime) -> None:
        self.current = when

    def advance(self, **delta) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def kvp_clock(monkeypatch):
    clock = Clock(START)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def _go(promise, user):
    review = GateReview.objects.get(promise_id=promise.pk, state=ReviewState.OPEN)
    gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review))
    return review


@pytest.fixture
def deliver(make_promise, seller, service_user, legal_user, delivery_user):
    """A promise through approval and handover into delivery. With a clock, `gate_minutes` sets how long
    each gate stays open before its go (the gate lead time)."""

    def run(*, clock=None, gate_minutes: int = 0, acknowledged_guidance_ids=None, **overrides):
        promise = make_promise(**overrides)
        ps.promise_submit(promise_id=promise.pk, user=seller, acknowledged_guidance_ids=acknowledged_guidance_ids)
        for user in (service_user, legal_user):
            if clock:
                clock.advance(minutes=gate_minutes)
            _go(promise, user)
        ps.promise_commit(promise_id=promise.pk, user=seller)
        ps.promise_handover(promise_id=promise.pk, user=seller)
        if clock:
            clock.advance(minutes=gate_minutes)
        _go(promise, delivery_user)
        promise.refresh_from_db()
        return promise

    return run


@pytest.fixture
def outcome(deliver, seller):
    """A promise verified kept (actual 3 h against ≤ 4 h) or broken (actual 6 h) with a reason."""

    def run(*, kept: bool, reason: str = "", **kwargs):
        promise = deliver(**kwargs)
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3") if kept else Decimal("6"),
                          reason=reason or ("" if kept else "technician unavailable"))
        promise.refresh_from_db()
        return promise

    return run


@pytest.fixture
def owner_user(db):
    return UserFactory(username="kvp-owner", teams=["service"])
