"""The demo's one clock: every demo write runs at its time, so a demo promise's history spreads over
the past weeks as in real use (gate lead times, due and overdue gates, interim notices and the
categories' records then have something to show). It never passes the real now, so nothing is
recorded in the future."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone

T = TypeVar("T")


class DemoClock:
    def __init__(self, real_now: dt.datetime):
        self.real_now = real_now
        self.now = real_now

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def rewind(self, start: dt.datetime) -> None:
        """Replay the next piece of history from `start` (in the past)."""
        self.now = min(start, self.real_now)

    def advance(self, **delta: float) -> None:
        self.now = min(self.now + dt.timedelta(**delta), self.real_now)

    def call(self, service: Callable[..., T], /, **kwargs) -> T:
        """Run a write service at the demo's time: the one place where the clock reaches the services,
        through the keyword `now` every write service takes."""
        return service(now=self.now, **kwargs)
