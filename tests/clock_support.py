"""What the clock tests of every app share: Berlin wall time, a settable timezone.now (the
`wall_clock` fixture, loaded for the whole suite by tests/conftest.py) and who got which delivery."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from notifications.models import Channel, Delivery
from qualitygates.models import ReviewState

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def wall_clock(monkeypatch):
    """timezone.now() as the test says; the services take `now` too."""

    class Clock:
        now = at(2027, 3, 5, 14, 0)  # a Friday afternoon

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def open_review(promise):
    return promise.gate_reviews.get(state=ReviewState.OPEN)


def recipients(kind, channel=Channel.EMAIL) -> list[str]:
    return sorted(Delivery.objects.filter(event__kind=kind, channel=channel)
                  .values_list("recipient__username", flat=True))
