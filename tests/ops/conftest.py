"""Fixtures of the operations tests: a Redis of our own on port 6391 that a test may stop and start
(cache and broker at once, as in production), production settings read in a clean subprocess, and
a real Celery worker in a thread of this process (locmem e-mail is visible here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
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
    settings.NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the tests' receivers listen on loopback
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


def webhook_to(receiver_url: str, *users) -> None:
    """Each user subscribes a webhook through the REST API (the public contract)."""
    from rest_framework.test import APIClient

    for user in users:
        client = APIClient()
        client.force_authenticate(user)
        response = client.post("/api/webhooks/", {"name": "chat", "url": receiver_url}, format="json")
        assert response.status_code == 201, response.content


def sweep() -> dict:
    """What beat runs every NOTIFICATIONS_SWEEP_INTERVAL_SECONDS, here and now."""
    from notifications import tasks

    return tasks.outbox_sweep()


def all_delivered() -> bool:
    return (not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists()
            and not Delivery.objects.exclude(state=DeliveryState.SENT).exists())


class CountingReceiver:
    """A webhook endpoint on 127.0.0.1 that counts calls per delivery key (X-SQG-Delivery)."""

    def __init__(self):
        self.keys: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.keys.append(self.headers.get("X-SQG-Delivery", ""))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def counting_receiver():
    receiver = CountingReceiver()
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def worker_process(broker_url: str, mail_dir: Path, log: Path, *, lease_seconds: int,
                   concurrency: int = 2) -> subprocess.Popen:
    """A Celery worker as production runs it (prefork pool, the README's options), in its own process
    group so that a test can kill it together with its pool. A short lease brings a killed worker's
    deliveries back soon, but one shorter than a send on a loaded machine lets the sweep hand a row
    that is still being sent to a second process."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "NOTIFICATIONS_LEASE_SECONDS": str(lease_seconds),
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the test's receiver listens on loopback
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={concurrency}",
         *WORKER_OPTIONS, "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )


# The options the Procfile and the systemd unit give every worker (see README, "Running in production").
WORKER_OPTIONS = ["--without-gossip", "--without-mingle"]


def pool_children(worker: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def email_delivery_keys(mail_dir: Path) -> list[str]:
    """The X-SQG-Delivery header of every message the file-based backend wrote."""
    keys = []
    for path in sorted(mail_dir.glob("*.log")):
        keys += [line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
                 if line.startswith("X-SQG-Delivery:")]
    return keys
