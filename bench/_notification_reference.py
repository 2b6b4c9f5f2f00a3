"""The reference of bench/notifications.py: the same fan-out-and-send shape with no work in it.

A no-op fan-out task publishes two no-op send tasks (inbox, email), and each send writes its time to
the same Redis, with the options the real tasks have (acks_late, reject_on_worker_lost) on a worker
started the same way. What the pipeline costs beyond this is the database and the rendering.
Imported by the benchmark's worker (`celery worker --include bench._notification_reference`).
"""

from __future__ import annotations

import os
import time

import redis

from config.celery import app

DONE_KEY = "bench:reference:done"
STARTED_KEY = "bench:reference:started"  # when the first fan-out of a backlog ran
OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    return _client


@app.task(name="bench.reference.fan_out", **OPTIONS)
def reference_fan_out(number: int) -> None:
    _redis().setnx(STARTED_KEY, repr(time.time()))
    for channel in ("inbox", "email"):
        app.send_task("bench.reference.send", args=(number, channel))


@app.task(name="bench.reference.send", **OPTIONS)
def reference_send(number: int, channel: str) -> None:
    _redis().hset(DONE_KEY, f"{number}:{channel}", repr(time.time()))
