"""The demo clock: the one time every demo write runs at, never later than the real now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from demo.clock import DemoClock
from promises import services as ps
from tests.factories import catalogue_metric


def test_the_clock_rewinds_advances_and_stops_at_the_real_now():
    real_now = timezone.now()
    clock = DemoClock(real_now)
    clock.rewind(real_now - dt.timedelta(days=10))
    clock.advance(days=3)
    assert clock.now == real_now - dt.timedelta(days=7)
    clock.advance(days=30)
    assert clock.now == real_now


def test_a_service_called_through_the_clock_writes_at_the_clocks_time(seller, category, customer):
    real_now = timezone.now()
    clock = DemoClock(real_now)
    clock.rewind(real_now - dt.timedelta(days=20))
    # When a promise is recorded and submitted through the clock
    promise = clock.call(ps.promise_create, user=seller, title="Delivery in 10 working days", category=category,
                         customer=customer, origin_department="sales", channel="offer",
                         metric=catalogue_metric(category, "lead time"), target_value=Decimal("10"), due_date=dt.date(2027, 3, 31))
    clock.advance(days=1)
    clock.call(ps.promise_submit, promise_id=promise.pk, user=seller)
    # Then it was written at the demo's time, and the real clock is back afterwards
    promise.refresh_from_db()
    assert promise.created_at == real_now - dt.timedelta(days=20)
    assert promise.trail.get(action="submit").at == real_now - dt.timedelta(days=19)
    assert timezone.now() > real_now
