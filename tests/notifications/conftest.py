"""Fixtures of the notification tests: a webhook receiver on 127.0.0.1, the outbox drained the way a
worker drains it (tests/outbox_support.py), and real Celery workers on the real Redis (in a thread, or as a subprocess)."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """A tiny webhook endpoint: records every request; answers with the scripted status codes."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # consumed one per request; 200 when empty
        self.hold_first = threading.Event()  # set: the first request waits until `release` is set
        self.release = threading.Event()
        self.first_arrived = threading.Event()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answered_ok(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200 and r["answered"]]

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.answered_ok()) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"expected {count} answered webhook calls, got {self.requests}")


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                record = {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "json": json.loads(body), "status": status,
                          "answered": False}
                receiver.requests.append(record)
                first = len(receiver.requests) == 1
            if first:
                receiver.first_arrived.set()
                if receiver.hold_first.is_set():
                    receiver.release.wait(30)
            try:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")
                record["answered"] = True
            except OSError:
                pass  # the sender is gone (killed mid-request)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback, an internal address: the operator's allow-list lets it in.
    settings.NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    r.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(r))
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def redis_url():
    url = os.environ.get("SQG_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis is not available")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()  # our own database number only (SQG_REDIS_DB): stale messages of an earlier run
    yield url
    client.flushdb()
