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

from . import delivery, dispatch, services, sweep
from .dispatch import DELIVERY_TASK, FAN_OUT_TASK, batch_size

# How long one fan-out task keeps taking batches of waiting events before it hands over.
FAN_OUT_SECONDS = 10

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
    """Fan out every event waiting (the ones named, of the transactions that published this, and
    any other), in batches. Published while no fan-out was queued or running (dispatch.fan_out_wake)."""
    ids, more = services.events_fan_out_waiting(batch=batch_size(), seconds=FAN_OUT_SECONDS)
    if more:
        dispatch.publish(FAN_OUT_TASK)  # the rest in a task of its own, behind the sends just queued
        return len(ids)
    dispatch.fan_out_done()
    # A commit between our last look and the marker's removal published nothing: look once more.
    return len(ids) + len(services.events_fan_out_waiting(batch=batch_size(), seconds=FAN_OUT_SECONDS)[0])


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
