"""The production-like stack of bench/soak.py on 127.0.0.1: its own Redis, PostgreSQL database,
gunicorn, a Celery worker and beat; plus the HTTP helpers and the webhook receiver the soak counts with."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops.own_redis import OwnRedis  # noqa: E402

VAR = ROOT / "var" / "soak"
PG = "postgres://postgres@127.0.0.1:5432"
# The Procfile's worker, with a concurrency that fits one machine.
WORKER_COMMAND = ["-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2",
                  "--without-gossip", "--without-mingle"]


# --- the stack ------------------------------------------------------------------------------------

class Stack:
    def __init__(self, *, port: int, redis_port: int, database: str):
        self.port = port
        self.redis = OwnRedis(redis_port)
        self.database = database
        self.mail_dir = VAR / "mail"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "soak-not-secret",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "false",
            "DATABASE_URL": f"{PG}/{database}",
            "REDIS_URL": self.redis.url(0),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "SITE_URL": f"http://127.0.0.1:{port}",
        }
        for name in ("EMAIL_URL", "CELERY_BROKER_URL", "SQG_TEST_REDIS_URL"):
            self.env.pop(name, None)
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                       stdout=(VAR / "manage.log").open("ab"), stderr=subprocess.STDOUT)

    def prepare_database(self) -> None:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=(VAR / f"{name}.log").open("ab"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.redis.start()
        self.web = self._spawn([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--workers", "2",
                                "--bind", f"127.0.0.1:{self.port}", "--timeout", "60"], "gunicorn")
        self.start_worker()
        self.beat = self._spawn([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                                 "--schedule", str(VAR / "celerybeat-schedule")], "beat")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.port, "/health/ready/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer on /health/ready/ within 60 s")

    def start_worker(self) -> None:
        self.worker = self._spawn([sys.executable, *WORKER_COMMAND], "worker")

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)  # the worker and its pool processes
        self.worker.wait(10)

    def processes(self) -> dict[str, int]:
        found = {"redis": self.redis.process.pid if self.redis.process else None}
        for name, proc in (("gunicorn master", self.web), ("celery worker", self.worker), ("celery beat", self.beat)):
            if proc is None or proc.poll() is not None:
                continue
            found[name] = proc.pid
            for number, child in enumerate(children(proc.pid), start=1):
                found[f"{name} / child {number}"] = child
        return {name: pid for name, pid in found.items() if pid}

    def stop(self) -> None:
        for proc in (self.web, self.worker, self.beat):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (self.web, self.worker, self.beat):
            if proc is None:
                continue
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.redis.close()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return sorted(int(p) for p in out)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- HTTP -------------------------------------------------------------------------------------------

def request(method: str, port: int, path: str, *, token: str | None = None, body: dict | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict | list | None]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data
    finally:
        if own:
            conn.close()


class Receiver:
    """Webhook endpoint: counts calls per delivery key."""

    def __init__(self):
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.keys[self.headers.get("X-SQG-Delivery", "")] += 1
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"
