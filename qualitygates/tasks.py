"""Celery tasks of the quality gates, fired by beat: thin, idempotent, acknowledged late."""

from celery import shared_task

from . import clock, services

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "autoretry_for": (Exception,),
                "retry_backoff": True, "max_retries": 5}


@shared_task(**TASK_OPTIONS)
def lapse_overdue_conditions() -> int:
    """Beat: promises whose conditional-go condition passed its due time go back to rework."""
    return services.gate_conditions_lapse_due()


@shared_task(**TASK_OPTIONS)
def gate_reminders() -> int:
    """Beat: remind owning teams of gates at 80 % of their decision time (working time)."""
    return clock.gate_reminders_send()


@shared_task(**TASK_OPTIONS)
def gate_escalations() -> int:
    """Beat: overdue gates escalate to the managers, again every 24 hours while they stay overdue."""
    return clock.gate_escalations_send()
