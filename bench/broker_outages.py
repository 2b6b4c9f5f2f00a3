"""Stop the broker (our own Redis on port 6391) several times under a running Celery worker and show
that the worker is still alive and consuming afterwards.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_ops1_repro \
        .venv/bin/python bench/broker_outages.py --outages 4 --seconds 60

It publishes a steady trickle of harmless tasks (sweeps of the outbox) and, around each outage,
holds a lock on the outbox table for a few seconds, so that tasks are running (slow, like a send to
a slow mail server) and their messages unacknowledged when Redis goes away, as in production.
Worker options come from --worker-args (default: the Procfile's; pass
--worker-args "--loglevel=INFO --concurrency=2" for Celery's defaults with gossip and mingle).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops.own_redis import OwnRedis  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60, help="length of each outage")
    parser.add_argument("--up", type=float, default=20, help="seconds Redis stays up between outages")
    parser.add_argument("--port", type=int, default=6391)
    parser.add_argument("--hold", type=float, default=8, help="seconds the outbox table stays locked")
    parser.add_argument("--worker-args", default="--loglevel=INFO --concurrency=2 --without-gossip --without-mingle")
    parser.add_argument("--log", default=str(ROOT / "var" / "broker_outages.worker.log"))
    args = parser.parse_args()

    redis = OwnRedis(args.port)
    redis.start()
    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
           "CELERY_BROKER_URL": redis.url(0)}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", *args.worker_args.split()],
                              cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["CELERY_BROKER_URL"] = redis.url(0)
    import logging

    import django

    django.setup()
    logging.getLogger("notifications").setLevel(logging.ERROR)  # refused publishes are expected here
    from notifications import services, tasks

    stop = threading.Event()
    published = {"ok": 0, "failed": 0}

    def trickle() -> None:
        while not stop.is_set():
            published["ok" if services.publish(tasks.outbox_sweep) else "failed"] += 1
            time.sleep(0.2)

    threading.Thread(target=trickle, daemon=True).start()
    results = []
    try:
        time.sleep(args.up)
        for number in range(1, args.outages + 1):
            with _slow_tasks(seconds=args.hold):
                time.sleep(min(3.0, args.hold / 2))  # tasks pile up, running and prefetched
                redis.stop()
                print(f"outage {number}: Redis stopped for {args.seconds:.0f} s", flush=True)
            time.sleep(max(0.0, args.seconds - args.hold / 2))
            redis.start()
            time.sleep(args.up)
            alive = worker.poll() is None
            consumed = _queue_drains(redis, timeout=30) if alive else False
            results.append((number, alive, consumed))
            print(f"outage {number}: worker alive={alive} consuming={consumed}", flush=True)
            if not alive:
                break
    finally:
        stop.set()
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        redis.close()
    text = log_path.read_text(errors="replace")
    print(f"published {published['ok']} tasks ({published['failed']} refused while Redis was down)")
    print(f"'Unrecoverable error' in worker log: {text.count('Unrecoverable error')}; "
          f"'Restoring' lines: {text.count('Restoring')}; log: {log_path}")
    survived = all(alive and consumed for _, alive, consumed in results) and len(results) == args.outages
    print("RESULT:", "worker survived every outage" if survived else "worker did NOT survive")
    return 0 if survived else 1


@contextlib.contextmanager
def _slow_tasks(*, seconds: float):
    """Every outbox sweep blocks on the outbox table while this holds it."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE notifications_outboxevent IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        yield
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))


def _queue_drains(redis: OwnRedis, *, timeout: float) -> bool:
    """The default queue empties: the worker consumes again."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis.url(0))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen("celery") == 0:
            return True
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(main())
