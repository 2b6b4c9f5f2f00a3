"""Celery tasks of the promises app, fired by beat: thin, idempotent, acknowledged late."""

from celery import shared_task

from . import clock


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def interim_notices() -> int:
    """Beat: interim notices to customers whose committed promise has had no visible update."""
    return clock.interim_notices_send()
