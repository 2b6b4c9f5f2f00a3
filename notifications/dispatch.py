"""Handing work to the Celery workers. Tasks are named, not imported, so the services that publish
them and the tasks that call those services do not import each other."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "notifications.tasks.event_fan_out"
DELIVERY_TASK = "notifications.tasks.delivery_send"


def publish(task_name: str, *args, countdown: float | None = None) -> bool:
    """Hand a task to the broker. A broker that is down must not break the request whose change
    is already committed: the row stays in the outbox and the sweep re-dispatches it."""
    try:
        # retry=False: waiting for a dead broker would hold the request; the sweep is the retry.
        current_app.send_task(task_name, args=args, countdown=countdown, retry=False)
    except Exception as exc:  # noqa: BLE001 - any publishing failure leaves the row for the sweep
        # One line per refused publish: during a broker outage there are thousands, and the cause
        # is the same each time (the traceback is there at DEBUG).
        logger.warning("Could not publish %s%r (%s: %s); the outbox sweep will re-dispatch it.", task_name,
                       args, type(exc).__name__, exc)
        logger.debug("Publishing %s failed", task_name, exc_info=True)
        return False
    return True


def dispatch_on_commit(task_name: str, *args, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: publish(task_name, *args, countdown=countdown))
