"""Benchmark of notification delivery: one real Celery worker on Redis, PostgreSQL underneath.

Prints events delivered per second (a burst of events, from the first commit to the last delivery)
and the commit-to-delivery latency p50 / p95, for the burst and for a paced stream that does not
queue up. Each event goes to one user on two channels (inbox, email), so one event is three tasks:
fan-out and two sends. Email uses Django's dummy backend: this measures the pipeline (outbox,
broker, worker, database), not a mail server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_notifications \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/notifications.py [--events 1000] [--paced 200] [--rate 5]

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards,
and empties the Redis database of CELERY_BROKER_URL first: give it a database number of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")  # production-like: no query log in the worker


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000, help="events in the burst")
    parser.add_argument("--paced", type=int, default=200, help="events in the paced stream")
    parser.add_argument("--rate", type=float, default=5.0, help="events per second of the paced stream")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (redis://…/<own db number>).")

    import django

    django.setup()
    import redis
    from django.db import connection, transaction
    from django.utils import timezone

    redis.Redis.from_url(broker).flushdb()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    db_name = connection.settings_dict["NAME"]
    worker = None
    try:
        from notifications.models import Delivery, DeliveryState, EventKind, OutboxEvent
        from promises import services as promise_services
        from promises.events import promise_event_record
        from tests.factories import (
            CategoryFactory,
            CustomerFactory,
            UserFactory,
            build_standard_plan,
            catalogue_metric,
        )

        seller = UserFactory(username="bench-seller", teams=["sales"])
        UserFactory(username="bench-servicer", teams=["service"])
        category = CategoryFactory(name="Bench", slug="bench")
        build_standard_plan(category)
        promise = promise_services.promise_create(
            user=seller, title="Bench promise", category=category, customer=CustomerFactory(),
            origin_department="sales", channel="contract", metric=catalogue_metric(category), target_value=4,
            due_date=timezone.now().date())

        log = open(ROOT / "var" / "bench-notifications-worker.log", "wb") if (ROOT / "var").exists() else None
        env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
               "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "LOG_LEVEL": "WARNING"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
             "--without-heartbeat", "--without-mingle", "--without-gossip", f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}"],
            cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def record_one() -> tuple[int, float]:
            with transaction.atomic():
                event, _ = promise_event_record(kind=EventKind.GATE_DECIDED, promise=promise, actor=None,
                                                payload={"gate": "Feasibility", "decision": "go", "comment": "bench"})
            return event.pk, time.time()  # after commit, and after its on-commit publish

        def wait_delivered(ids: list[int], timeout: float) -> float:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                open_events = OutboxEvent.objects.filter(pk__in=ids, fanned_out_at__isnull=True).exists()
                if not open_events and not Delivery.objects.filter(event_id__in=ids).exclude(
                        state=DeliveryState.SENT).exists():
                    return time.time()
                time.sleep(0.05)
            raise SystemExit("timed out: the worker did not deliver everything (see var/bench-notifications-worker.log)")

        def latencies(committed: dict[int, float]) -> list[float]:
            done: dict[int, float] = {}
            for event_id, sent_at in Delivery.objects.filter(event_id__in=committed).values_list("event_id", "sent_at"):
                done[event_id] = max(done.get(event_id, 0.0), sent_at.timestamp())
            return [done[i] - committed[i] for i in committed]

        # warm-up: the worker is up and connected once one event went through
        warm_id, _ = record_one()
        wait_delivered([warm_id], timeout=60)

        committed = dict(record_one() for _ in range(args.events))
        first = min(committed.values())
        last = wait_delivered(list(committed), timeout=600)
        burst_lat = latencies(committed)
        deliveries = Delivery.objects.filter(event_id__in=committed).count()

        paced: dict[int, float] = {}
        for _ in range(args.paced):
            started = time.monotonic()
            event_id, at = record_one()
            paced[event_id] = at
            time.sleep(max(0.0, 1.0 / args.rate - (time.monotonic() - started)))
        wait_delivered(list(paced), timeout=600)
        paced_lat = latencies(paced)

        print(f"notifications benchmark: 1 worker (solo pool), PostgreSQL + Redis; "
              f"{deliveries / args.events:.0f} deliveries per event (inbox, email); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"burst  {args.events} events: {args.events / (last - first):8.1f} events/s delivered "
              f"({deliveries / (last - first):.1f} deliveries/s), commit-to-delivery "
              f"p50 {percentile(burst_lat, 0.5) * 1000:.0f} ms, p95 {percentile(burst_lat, 0.95) * 1000:.0f} ms")
        print(f"paced  {args.paced} events at {args.rate:g}/s: commit-to-delivery "
              f"p50 {percentile(paced_lat, 0.5) * 1000:.0f} ms, p95 {percentile(paced_lat, 0.95) * 1000:.0f} ms, "
              f"max {max(paced_lat) * 1000:.0f} ms (mean {statistics.mean(paced_lat) * 1000:.0f} ms)")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        connection.creation.destroy_test_db(db_name, verbosity=0)
        redis.Redis.from_url(broker).flushdb()


if __name__ == "__main__":
    main()
