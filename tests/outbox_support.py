"""The outbox drained the way a worker drains it: step by step in the test's thread (`drain`), or by a
real Celery worker in a thread of the test process (`thread_worker`) until a condition holds."""

from __future__ import annotations

import time

from celery.contrib.testing.worker import start_worker

from config.celery import app
from notifications import services
from notifications.delivery import delivery_send
from notifications.models import Delivery, DeliveryState, OutboxEvent


def drain(now=None) -> None:
    """Fan out every recorded event, then send every delivery that is due."""
    for event_id in OutboxEvent.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True):
        services.event_fan_out(event_id=event_id, now=now)
    for delivery_id in Delivery.objects.filter(state=DeliveryState.PENDING).values_list("pk", flat=True):
        delivery_send(delivery_id=delivery_id, now=now)


def thread_worker():
    return start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30,
                        loglevel="WARNING")


def wait_until(predicate, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")
