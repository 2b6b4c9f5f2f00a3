"""The managers' weekly KVP digest: once per ISO week, with open improvements, broken promises and
overdue gates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from feedback import digest as kvp_digest
from notifications.models import Channel, Delivery, EventKind
from promises import services as ps
from tests.outbox_support import drain

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() as the test says; the services take `now` too."""

    class Clock:
        now = at(2027, 3, 5, 14, 0)  # a Friday afternoon

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def recipients(kind, channel=Channel.EMAIL) -> list[str]:
    return sorted(Delivery.objects.filter(event__kind=kind, channel=channel)
                  .values_list("recipient__username", flat=True))


def test_weekly_digest_once_per_week(clock, make_promise, seller, manager, service_user,
                                     django_assert_max_num_queries):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)  # its gate is due Tuesday 12:00
    monday = at(2027, 3, 15, 7, 0)
    with django_assert_max_num_queries(8):
        kvp_digest.weekly_digest_figures(now=monday)
    first = kvp_digest.weekly_digest_send(now=monday)
    assert kvp_digest.weekly_digest_send(now=monday + dt.timedelta(days=2)).pk == first.pk
    assert kvp_digest.weekly_digest_send(now=monday + dt.timedelta(days=7)).pk != first.pk
    drain()
    assert first.payload["overdue_gates"] == 1 and first.payload["broken_open"] == 0
    assert first.payload["open_improvements"] == 0
    assert recipients(EventKind.WEEKLY_DIGEST) == ["manager", "manager"]
    digest = [m for m in mail.outbox if m.subject.startswith("Weekly improvement digest")]
    assert len(digest) == 2 and "Overdue gates: 1" in digest[0].body
