"""What one decide request and one /api/me/ request cost in the web process, and what a decision
costs the worker: statements and CPU time, in-process (Django's test client, no HTTP server).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_requests .venv/bin/python bench/request_cost.py [--requests 60]

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards.
CPU time is the process's, so the figures hold up better than wall time on a loaded machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    import django

    django.setup()
    from _support import throwaway_database

    with throwaway_database():
        run(args.requests)


def run(n: int) -> None:
    from _gate_world import build_world, open_gates
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from notifications import services as notifications
    from notifications.delivery import delivery_send
    from notifications.models import Delivery, DeliveryState, OutboxEvent

    world = build_world()
    gates = open_gates(world, n + 2)
    OutboxEvent.objects.update(fanned_out_at=timezone.now())  # only the measured decisions' events count
    client = Client()
    token = client.post("/api/auth/token/", {"username": world.servicer.username, "password": "bench-password"},
                        content_type="application/json").json()["token"]
    headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_X_FORWARDED_PROTO": "https"}

    def decide(gate) -> None:
        body = {"decision": "go", "checks": [{"check": c, "result": "met"} for c in gate.check_ids]}
        response = client.post(f"/api/gates/{gate.review_id}/decide/", body, content_type="application/json",
                               **headers)
        assert response.status_code == 200, response.content

    decide(gates[0])
    client.get("/api/me/", **headers)
    with CaptureQueriesContext(connection) as decide_queries:
        decide(gates[1])
    with CaptureQueriesContext(connection) as me_queries:
        client.get("/api/me/", **headers)
    cpu, wall = time.process_time(), time.perf_counter()
    for gate in gates[2:]:
        decide(gate)
    decide_cpu, decide_wall = (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        client.get("/api/me/", **headers)
    me_cpu, me_wall = (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n
    event_ids = list(OutboxEvent.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True))
    cpu = time.process_time()
    for pk in event_ids:
        notifications.event_fan_out(event_id=pk)
    for pk in Delivery.objects.filter(state=DeliveryState.PENDING).values_list("pk", flat=True):
        delivery_send(delivery_id=pk)
    worker_cpu = (time.process_time() - cpu) / (n + 2)  # every decision above, the first two included
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f}")
    print(f"decide request  {len(decide_queries.captured_queries):3d} statements  cpu {decide_cpu * 1000:5.1f} ms  "
          f"wall {decide_wall * 1000:6.1f} ms")
    print(f"/api/me/        {len(me_queries.captured_queries):3d} statements  cpu {me_cpu * 1000:5.1f} ms  "
          f"wall {me_wall * 1000:6.1f} ms")
    print(f"cpu ratio me/decide {me_cpu / decide_cpu:.2f}")
    print(f"worker per decision ({len(event_ids) / (n + 2):.0f} events: fan-out and deliveries)  "
          f"cpu {worker_cpu * 1000:5.1f} ms")


if __name__ == "__main__":
    main()
