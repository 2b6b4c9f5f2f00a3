"""Two promises of one category break at the same moment, each on its own PostgreSQL connection: the
early warning is proposed once, and both verifications succeed."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from feedback.models import ImprovementItem, ImprovementOrigin
from feedback.services import signals as fs
from promises import services as ps
from promises.models import PromiseState, ServicePromise

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def blocked_by_me() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        return cursor.fetchone()[0]


def test_simultaneous_breaks_propose_one_early_warning(settings, monkeypatch, outcome, deliver, seller):
    settings.KVP_EARLY_WARNING_WINDOW = 5
    settings.KVP_EARLY_WARNING_THRESHOLD = "0.20"
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 1000
    # Given 3 kept and 1 broken promise: the next break makes 2 of the last 5 (40 %) for either breaker.
    for kept in (True, True, True, False):
        outcome(kept=kept)
    racers = [deliver(), deliver()]

    # Whoever checks first holds the category lock until the rival is seen waiting for it.
    real_check = fs.early_warning_check
    collisions = []

    def check_then_wait(*, category_id, now=None):
        result = real_check(category_id=category_id, now=now)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not collisions:
            if blocked_by_me():
                collisions.append(threading.get_ident())
                break
            time.sleep(0.005)
        return result

    monkeypatch.setattr(fs, "early_warning_check", check_then_wait)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def verify(i: int, promise: ServicePromise) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            outcomes[i] = ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("7"),
                                            reason="no technician free")
        except Exception as exc:  # noqa: BLE001 (the test asserts on whatever came back)
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=verify, args=(i, p)) for i, p in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(isinstance(o, ServicePromise) for o in outcomes), outcomes
    assert collisions, "the two checks must really have collided"
    assert set(ServicePromise.objects.filter(pk__in=[p.pk for p in racers]).values_list("state", flat=True)) == {
        PromiseState.BROKEN}
    assert ImprovementItem.objects.filter(origin=ImprovementOrigin.EARLY_WARNING).count() == 1
