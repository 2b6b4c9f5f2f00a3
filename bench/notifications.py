"""Benchmark of notification delivery: real Celery workers on Redis, PostgreSQL underneath.

Each event goes to one user on two channels (inbox, email); email uses Django's dummy backend, so
this measures the pipeline (outbox, broker, workers, database), not a mail server. Events are
recorded with `promise_event_record` in their own transactions, exactly as the services do. In one
run it prints:

- **reference** (one worker): a no-op task that fans out and makes two no-op sends on the same
  Redis (bench/_notification_reference.py), N of them published as fast as one process can;
- **one worker**: a burst of N real events, events/s and deliveries/s from the first commit to the
  last delivery, and its ratio to the reference (the goal: >= 0.5). A burst is committed by one
  process; when the workers keep up, this is that process's pace, so
- **backlog** (one worker): N events (and N reference fan-outs) queued while no worker runs, then
  drained by one: the worker's capacity, from its first fan-out to the last delivery, and the ratio;
- **two workers**: a burst of --burst events: the time from the first commit until every one is
  delivered (the goal: <= 10 s) and the commit-to-delivered latency p50 / p95; and the same number
  queued while no worker runs, then drained by two (delivery alone, without the commits' pace);
- **paced** (two workers): events at a steady rate below capacity, commit-to-delivered p50 / p95.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_notifications \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/notifications.py [--events 1000] [--burst 1000] [--paced 50] [--rate 5]

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


class Workers:
    """N solo-pool worker processes, started like production starts them."""

    def __init__(self, db_name: str, count: int):
        log_path = ROOT / "var" / "bench-notifications-worker.log"
        self.log = open(log_path, "ab") if log_path.parent.exists() else None
        env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
               "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "LOG_LEVEL": "WARNING"}
        level = os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")
        self.processes = [subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
             "--include", "bench._notification_reference", "-n", f"bench{i}@%h",
             "--without-heartbeat", "--without-mingle", "--without-gossip", f"--loglevel={level}"],
            cwd=ROOT, env=env, stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
            for i in range(count)]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.log:
            self.log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000, help="events of the one-worker runs")
    parser.add_argument("--burst", type=int, default=1000, help="events of the two-worker burst")
    parser.add_argument("--paced", type=int, default=50, help="events in the paced stream (0: none)")
    parser.add_argument("--rate", type=float, default=5.0, help="events per second of the paced stream")
    parser.add_argument("--no-backlog", dest="backlog", action="store_false",
                        help="skip the backlog runs (events queued while no worker runs, then drained by one)")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://") or "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (redis://…/<own db number>).")

    import django

    django.setup()
    import redis
    from django.db import connection, transaction
    from django.utils import timezone

    from config.celery import app

    client = redis.Redis.from_url(broker)
    client.flushdb()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    db_name = connection.settings_dict["NAME"]
    workers = None
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

        def record_one() -> tuple[int, float]:
            with transaction.atomic():
                event, _ = promise_event_record(kind=EventKind.GATE_DECIDED, promise=promise, actor=None,
                                                payload={"gate": "Feasibility", "decision": "go", "comment": "bench"})
            return event.pk, time.time()  # after commit, and after its on-commit publish

        def wait_delivered(ids: list[int], timeout: float = 600) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                open_events = OutboxEvent.objects.filter(pk__in=ids, fanned_out_at__isnull=True).exists()
                if not open_events and not Delivery.objects.filter(event_id__in=ids).exclude(
                        state=DeliveryState.SENT).exists():
                    return
                time.sleep(0.05)
            raise SystemExit("timed out: the workers did not deliver everything "
                             "(see var/bench-notifications-worker.log)")

        def delivered_at(committed: dict[int, float]) -> dict[int, float]:
            """Per event, when its last delivery was marked sent (the workers' clock is this machine's)."""
            done: dict[int, float] = {}
            for event_id, sent_at in Delivery.objects.filter(event_id__in=committed).values_list("event_id", "sent_at"):
                done[event_id] = max(done.get(event_id, 0.0), sent_at.timestamp())
            return done

        def burst(count: int) -> dict:
            committed = dict(record_one() for _ in range(count))
            produced = max(committed.values()) - min(committed.values())
            wait_delivered(list(committed))
            done = delivered_at(committed)
            first, last = min(committed.values()), max(done.values())
            lat = [done[i] - committed[i] for i in committed]
            deliveries = Delivery.objects.filter(event_id__in=committed).count()
            return {"events": count, "seconds": last - first, "produced": produced, "deliveries": deliveries,
                    "after_last_commit": last - max(committed.values()),
                    "p50": percentile(lat, 0.5), "p95": percentile(lat, 0.95), "max": max(lat)}

        def warm_up() -> None:
            warm_id, _ = record_one()
            wait_delivered([warm_id], timeout=120)

        def reference(count: int) -> dict:
            from bench._notification_reference import DONE_KEY

            client.delete(DONE_KEY)
            app.send_task("bench.reference.fan_out", args=(-1,))  # warm-up
            while client.hlen(DONE_KEY) < 2:
                time.sleep(0.02)
            client.delete(DONE_KEY)
            first = time.time()
            for number in range(count):
                app.send_task("bench.reference.fan_out", args=(number,))
            produced = time.time() - first
            deadline = time.monotonic() + 600
            while client.hlen(DONE_KEY) < 2 * count:
                if time.monotonic() > deadline:
                    raise SystemExit("timed out: the reference tasks did not finish")
                time.sleep(0.05)
            last = max(float(value) for value in client.hvals(DONE_KEY))
            return {"events": count, "seconds": last - first, "produced": produced}

        def reference_backlog(count: int) -> dict:
            """The reference's messages queued while no worker runs, then drained by one."""
            from bench._notification_reference import DONE_KEY, STARTED_KEY

            client.delete(DONE_KEY, STARTED_KEY)
            for number in range(count):
                app.send_task("bench.reference.fan_out", args=(number,))
            drainer = Workers(db_name, 1)
            try:
                deadline = time.monotonic() + 600
                while client.hlen(DONE_KEY) < 2 * count:
                    if time.monotonic() > deadline:
                        raise SystemExit("timed out: the reference tasks did not finish")
                    time.sleep(0.05)
            finally:
                drainer.stop()
            started = float(client.get(STARTED_KEY))
            return {"events": count, "seconds": max(float(v) for v in client.hvals(DONE_KEY)) - started}

        def backlog(count: int, workers: int = 1) -> dict:
            """N events committed while no worker runs, then drained: the workers' capacity, without
            the committing process's pace in it."""
            committed = dict(record_one() for _ in range(count))
            drainer = Workers(db_name, workers)
            try:
                wait_delivered(list(committed))
            finally:
                drainer.stop()
            started = min(OutboxEvent.objects.filter(pk__in=committed).values_list("fanned_out_at", flat=True))
            done = delivered_at(committed)
            last = max(done.values())
            lat = [done[i] - started.timestamp() for i in committed]
            return {"events": count, "seconds": last - started.timestamp(), "p50": percentile(lat, 0.5),
                    "p95": percentile(lat, 0.95)}

        load_before = os.getloadavg()
        workers = Workers(db_name, 1)
        warm_up()
        ref = reference(args.events)
        one = burst(args.events)
        workers.stop()
        workers = None
        ref_backlog = reference_backlog(args.events) if args.backlog else None
        one_backlog = backlog(args.events) if args.backlog else None

        two_backlog = backlog(args.burst, workers=2) if args.backlog else None
        workers = Workers(db_name, 2)
        warm_up()
        two = burst(args.burst)
        paced_lat: list[float] = []
        if args.paced:
            paced: dict[int, float] = {}
            for _ in range(args.paced):
                started = time.monotonic()
                event_id, at = record_one()
                paced[event_id] = at
                time.sleep(max(0.0, 1.0 / args.rate - (time.monotonic() - started)))
            wait_delivered(list(paced))
            done = delivered_at(paced)
            paced_lat = [done[i] - paced[i] for i in paced]
        workers.stop()
        workers = None

        ref_rate = ref["events"] / ref["seconds"]
        one_rate = one["events"] / one["seconds"]
        print(f"notifications benchmark: PostgreSQL + Redis, solo-pool workers, "
              f"{one['deliveries'] / one['events']:.0f} deliveries per event (inbox, email); load average "
              f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs")
        print(f"reference  1 worker, {ref['events']} no-op fan-outs + 2 no-op sends each: {ref_rate:8.1f} events/s "
              f"({2 * ref_rate:.1f} sends/s; published in {ref['produced']:.2f} s)")
        print(f"pipeline   1 worker, burst of {one['events']} events: {one_rate:8.1f} events/s "
              f"({one['deliveries'] / one['seconds']:.1f} deliveries/s; committed in {one['produced']:.2f} s), "
              f"commit-to-delivered p50 {one['p50'] * 1000:.0f} ms, p95 {one['p95'] * 1000:.0f} ms")
        print(f"ratio      pipeline / reference, 1 worker: {one_rate / ref_rate:.3f}  (goal >= 0.5)")
        if ref_backlog and one_backlog:
            ref_capacity = ref_backlog["events"] / ref_backlog["seconds"]
            capacity = one_backlog["events"] / one_backlog["seconds"]
            print(f"backlog    1 worker, {args.events} queued while no worker ran, drained: reference "
                  f"{ref_capacity:.1f} events/s, pipeline {capacity:.1f} events/s ({2 * capacity:.1f} deliveries/s); "
                  f"ratio {capacity / ref_capacity:.3f}")
        print(f"burst      2 workers, {two['events']} events: all delivered {two['seconds']:.2f} s after the first "
              f"commit (goal <= 10 s; committed in {two['produced']:.2f} s, the last delivery "
              f"{two['after_last_commit'] * 1000:.0f} ms after the last commit), commit-to-delivered "
              f"p50 {two['p50'] * 1000:.0f} ms, p95 {two['p95'] * 1000:.0f} ms, max {two['max'] * 1000:.0f} ms")
        if two_backlog:
            print(f"backlog    2 workers, {args.burst} events queued while no worker ran: all delivered "
                  f"{two_backlog['seconds']:.2f} s after the first fan-out, delivered p50 {two_backlog['p50']:.2f} s, "
                  f"p95 {two_backlog['p95']:.2f} s after it")
        if paced_lat:
            print(f"paced      2 workers, {args.paced} events at {args.rate:g}/s: commit-to-delivered "
                  f"p50 {percentile(paced_lat, 0.5) * 1000:.0f} ms, p95 {percentile(paced_lat, 0.95) * 1000:.0f} ms, "
                  f"max {max(paced_lat) * 1000:.0f} ms (mean {statistics.mean(paced_lat) * 1000:.0f} ms)")
    finally:
        if workers is not None:
            workers.stop()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        connection.creation.destroy_test_db(db_name, verbosity=0)
        client.flushdb()


if __name__ == "__main__":
    main()
