"""Celery tasks of the feedback loop, fired by beat: thin, idempotent, acknowledged late."""

from celery import shared_task

from . import digest


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(Exception,), retry_backoff=True,
             max_retries=5)
def weekly_digest() -> int:
    """Beat: the managers' weekly KVP digest (once per ISO week whatever the schedule)."""
    return digest.weekly_digest_send().pk
