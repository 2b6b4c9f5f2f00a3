"""gunicorn.conf.py as production starts it: two worker processes on a port of our own, JSON access
lines with the request id, and /metrics summing the request counters of both processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def gunicorn(tmp_path):
    port = _free_port()
    db = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{url}/health/")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError(Path(log.name).read_text()[-3000:]) from None
            time.sleep(0.3)
    yield url, Path(log.name)
    process.send_signal(signal.SIGTERM)  # graceful stop, as a supervisor does
    process.wait(timeout=40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_two_processes_log_json_and_metrics_sum_their_requests(gunicorn):
    url, log = gunicorn
    # when 40 requests arrive 8 at a time (so both sync workers answer some)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: _get(f"{url}/health/", **{"X-Request-ID": f"soak-{i}"}), range(40)))
    assert {status for status, _, _ in answers} == {200}
    assert [headers["X-Request-ID"] for _, headers, _ in answers] == [f"soak-{i}" for i in range(40)]
    # then every access line is JSON with the request id the app answered with
    time.sleep(0.5)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line.get("path") == "/health/"]
    assert {line["request_id"] for line in access} >= {f"soak-{i}" for i in range(40)}
    assert all(line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0 for line in access)
    served_by = {line["pid"] for line in access}
    # and whichever process answers the scrape counts the requests of both
    for _ in range(3):
        _, _, body = _get(f"{url}/metrics")
        counts = {tuple(sorted(s.labels.items())): s.value
                  for family in text_string_to_metric_families(body.decode()) for s in family.samples
                  if s.name == "sqg_http_requests_total"}
        assert counts[(("method", "GET"), ("status", "200"))] >= 41  # the health checks (+ the first probe)
    assert len(served_by) == 2, f"only {served_by} answered: the sum above proves less"
