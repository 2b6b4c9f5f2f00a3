"""Celery tasks of the notifications app: thin, take primary keys, safe to run twice.

Acknowledged late (a worker that dies mid-task leaves the message to be redelivered) and retried
with exponential backoff when the database itself fails; a delivery's own retries (a webhook that
answers 500, a mail server that refuses) are scheduled by notifications.delivery from the row's
state. The clocks that record events live in the domain apps (qualitygates, promises, feedback).
"""

from __future__ import annotations

from celery import shared_task

from . import delivery, services, sweep
from .dispatch import DELIVERY_TASK, FAN_OUT_TASK

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name=FAN_OUT_TASK, **TASK_OPTIONS)
def event_fan_out(event_id: int, *more_event_ids: int) -> int:
    """One message may carry every event of one transaction (services.events_record)."""
    return sum(len(services.event_fan_out(event_id=pk)) for pk in (event_id, *more_event_ids))


@shared_task(name=DELIVERY_TASK, **TASK_OPTIONS)
def delivery_send(delivery_id: int) -> str:
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(**TASK_OPTIONS)
def outbox_sweep() -> dict:
    """Beat: re-dispatch what the broker lost (published while it was down, or held by a dead worker)."""
    return sweep.outbox_sweep()
