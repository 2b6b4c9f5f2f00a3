"""Fixtures of the operations tests: a Redis of our own on port 6391 that a test may stop and start
(cache and broker at once, as in production), production settings read in a clean subprocess, and
a real Celery worker in a thread of this process (locmem e-mail is visible here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from config.celery import app
from notifications.models import Delivery, DeliveryState, OutboxEvent
from tests.ops.own_redis import OwnRedis

ROOT = Path(__file__).resolve().parents[2]
OWN_REDIS_PORT = 6391


@pytest.fixture
def own_redis():
    server = OwnRedis(OWN_REDIS_PORT)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


def use_broker(url: str) -> None:
    """Point this process's publishers (and workers started afterwards) at another broker, with the
    transport options production uses for Redis; drops the pooled connections."""
    app.conf.broker_url = url
    app.conf.broker_transport_options = dict(settings.NETWORK_BROKER_TRANSPORT_OPTIONS)
    app._after_fork()


@pytest.fixture
def production_like(own_redis, settings):
    """This process uses our own Redis as cache (production's cache settings) and broker."""
    before = app.conf.broker_url, app.conf.broker_transport_options
    settings.CACHES = production_setting("CACHES", REDIS_URL=own_redis.url(1))
    use_broker(own_redis.url(0))
    yield own_redis
    app.conf.broker_url, app.conf.broker_transport_options = before
    app._after_fork()
    with connection.cursor() as cursor:  # workers must not keep the test database open
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def production_setting(name: str, **environment: str):
    """The value of one setting of config.settings.production, imported in a subprocess whose
    environment holds only what a deployment would set (and the given variables)."""
    base = {"PATH": os.environ.get("PATH", ""), "DJANGO_SECRET_KEY": "x", "DJANGO_ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/db", "REDIS_URL": "redis://127.0.0.1:6391/0"}
    code = ("import json, config.settings.production as s; "
            f"print(json.dumps(getattr(s, {name!r}), default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **environment},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def thread_worker():
    return start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30,
                        loglevel="WARNING")


def wait_until(predicate, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def all_delivered() -> bool:
    return (not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists()
            and not Delivery.objects.exclude(state=DeliveryState.SENT).exists())
