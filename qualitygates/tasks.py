from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def lapse_overdue_conditions() -> int:
    """Beat: promises whose conditional-go condition passed its due time go back to rework."""
    return services.gate_conditions_lapse_due()
