"""Celery tasks of the notifications app: thin, take primary keys, safe to run twice.

Acknowledged late (a worker that dies mid-task leaves the message to be redelivered) and retried
with exponential backoff when the database itself fails; a delivery's own retries (a webhook that
answers 500, a mail server that refuses) are scheduled by the service from the row's state.
"""

from __future__ import annotations

from celery import shared_task

from . import services

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**TASK_OPTIONS)
def event_fan_out(event_id: int) -> int:
    return len(services.event_fan_out(event_id=event_id))


@shared_task(**TASK_OPTIONS)
def delivery_send(delivery_id: int) -> str:
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(**TASK_OPTIONS)
def outbox_sweep() -> dict:
    """Beat: re-dispatch what the broker lost (published while it was down, or held by a dead worker)."""
    return services.outbox_sweep()


@shared_task(**TASK_OPTIONS)
def gate_reminders() -> int:
    """Beat: remind owning teams of gates at 80 % of their decision time (working time)."""
    return services.gate_reminders_send()


@shared_task(**TASK_OPTIONS)
def gate_escalations() -> int:
    """Beat: overdue gates escalate to the managers, again every 24 hours while they stay overdue."""
    return services.gate_escalations_send()


@shared_task(**TASK_OPTIONS)
def interim_notices() -> int:
    """Beat: interim notices to customers whose committed promise has had no visible update."""
    return services.interim_notices_send()


@shared_task(**TASK_OPTIONS)
def weekly_digest() -> int:
    """Beat: the managers' weekly KVP digest (once per ISO week whatever the schedule)."""
    return services.weekly_digest_send().pk
