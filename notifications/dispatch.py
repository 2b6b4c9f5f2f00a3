"""Handing work to the Celery workers. Tasks are named, not imported, so the services that publish
them and the tasks that call those services do not import each other.

Both tasks take any number of primary keys (`event_fan_out(*event_ids)`, `delivery_send(*delivery_ids)`):
a transaction publishes one message for all the rows it wrote (`dispatch_batched_on_commit`), not one
per row, and a message of one key (an older message, a retry, the manager's "send again") is the
same task.

Fan-outs are coalesced further: a fan-out task takes every event waiting, so while one is queued or
running, another message would only find its events done. A marker in the broker's Redis
(`FAN_OUT_QUEUED_KEY`) says one is on its way; a commit that finds it publishes nothing. The task
removes the marker when it runs out of events and then looks once more, so an event committed
before the removal is taken by that look and one committed after it publishes again. The marker
expires after FAN_OUT_QUEUED_SECONDS (longer than a fan-out task runs), so a message lost with a
worker killed mid-task delays later events at most that long; the sweep is still there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "notifications.tasks.event_fan_out"
DELIVERY_TASK = "notifications.tasks.delivery_send"


def batch_size() -> int:
    """Keys per message and rows per task: big enough to amortise a transaction, small enough that
    one task's sends finish well inside its lease and time limit."""
    return max(1, int(getattr(settings, "NOTIFICATIONS_BATCH_SIZE", 100)))


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


def publish_batches(task_name: str, keys: Iterable[int]) -> int:
    """Publish the keys in messages of `batch_size()`; returns how many keys went out."""
    keys = list(dict.fromkeys(keys))
    size = batch_size()
    return sum(len(chunk) for chunk in (keys[i:i + size] for i in range(0, len(keys), size))
               if publish(task_name, *chunk))


FAN_OUT_QUEUED_KEY = "notifications:fan-out-queued"
FAN_OUT_QUEUED_SECONDS = 30
_redis_clients: dict[str, object] = {}


def _broker_redis():
    """A client of the broker's Redis (the marker lives next to the queue it speaks of), or None on
    another broker (the embedded one of a local set-up, the tests' in-memory one): then every commit
    publishes."""
    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return None
    if url not in _redis_clients:
        import redis

        timeout = float((current_app.conf.broker_transport_options or {}).get("socket_connect_timeout", 3))
        _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    return _redis_clients[url]


def fan_out_wake(event_ids: Iterable[int]) -> None:
    """After commit: make sure a fan-out task is on its way for these events."""
    client = _broker_redis()
    if client is not None:
        try:
            if not client.set(FAN_OUT_QUEUED_KEY, "1", nx=True, ex=FAN_OUT_QUEUED_SECONDS):
                return  # one is on its way and will take these events too
        except Exception:  # noqa: BLE001 - no marker, no harm: publish as if there were none
            logger.debug("Fan-out marker not set", exc_info=True)
    if not publish_batches(FAN_OUT_TASK, event_ids) and client is not None:
        try:
            client.delete(FAN_OUT_QUEUED_KEY)  # nothing is queued after all: the next commit publishes
        except Exception:  # noqa: BLE001 - the broker is down: the marker expires on its own
            logger.debug("Fan-out marker not removed", exc_info=True)


def fan_out_done() -> None:
    """The fan-out task found nothing more: from now on, a commit publishes again (see the module's doc)."""
    client = _broker_redis()
    if client is not None:
        try:
            client.delete(FAN_OUT_QUEUED_KEY)
        except Exception:  # noqa: BLE001 - it expires on its own; the task's work does not depend on it
            logger.debug("Fan-out marker not removed", exc_info=True)


def dispatch_on_commit(task_name: str, *args, countdown: float | None = None) -> None:
    transaction.on_commit(lambda: publish(task_name, *args, countdown=countdown))


class _BatchAfterCommit:
    """One on-commit callback per task and transaction that publishes every key added to it."""

    def __init__(self, task_name: str):
        self.task_name = task_name
        self.keys: list[int] = []

    def __call__(self) -> None:
        if self.task_name == FAN_OUT_TASK:
            fan_out_wake(self.keys)
        else:
            publish_batches(self.task_name, self.keys)


def dispatch_batched_on_commit(task_name: str, *keys: int) -> None:
    """Publish the keys after commit, together with every other key of this task the transaction
    dispatches: one broker round trip per transaction instead of one per row.

    A key added from a savepoint that is rolled back later still goes out; the task finds no row
    for it (or a row already done) and does nothing, as with any duplicate.
    """
    if not keys:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        open_savepoints = set(connection.savepoint_ids)
        # Django keeps (savepoint ids at registration, callback, robust) per on-commit callback; a
        # callback registered in this block or one around it runs when this one's work commits.
        for savepoint_ids, callback, _robust in reversed(connection.run_on_commit):
            if (isinstance(callback, _BatchAfterCommit) and callback.task_name == task_name
                    and savepoint_ids <= open_savepoints):
                callback.keys.extend(keys)
                return
    batch = _BatchAfterCommit(task_name)
    batch.keys.extend(keys)
    transaction.on_commit(batch)
