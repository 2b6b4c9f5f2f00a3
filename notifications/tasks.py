"""Celery tasks of the notifications app: thin, take primary keys, safe to run twice.

Each takes any number of primary keys: one message carries a transaction's rows (a batch), and a
message of one key (a retry, an older message) is the same task.

Acknowledged late (a worker that dies mid-task leaves the message to be redelivered) and retried
with exponential backoff when the database itself fails; a delivery's own retries (a webhook that
answers 500, a mail server that refuses) are scheduled by notifications.delivery from the row's
state. The clocks that record events live in the domain apps (qualitygates, promises, feedback).
"""

from __future__ import annotations

from collections import Counter

from celery import shared_task

from . import delivery, services, sweep
from .dispatch import DELIVERY_TASK, FAN_OUT_TASK, batch_size

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
def event_fan_out(*event_ids: int) -> int:
    """Fan out the events of one transaction, and of others waiting, up to a batch."""
    return len(services.events_fan_out(event_ids=event_ids, fill_to=batch_size()))


@shared_task(name=DELIVERY_TASK, **TASK_OPTIONS)
def delivery_send(*delivery_ids: int) -> str | dict[str, int]:
    """Send a batch of deliveries; the outcome of one, or how many had each outcome."""
    outcomes = delivery.deliveries_send(delivery_ids=delivery_ids)
    if len(outcomes) == 1:
        return str(next(iter(outcomes.values())))
    return dict(Counter(str(outcome) for outcome in outcomes.values()))


@shared_task(**TASK_OPTIONS)
def outbox_sweep() -> dict:
    """Beat: re-dispatch what the broker lost (published while it was down, or held by a dead worker)."""
    return sweep.outbox_sweep()
