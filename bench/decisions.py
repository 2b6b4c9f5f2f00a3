"""Gate decisions through the service layer against the same SQL replayed through psycopg.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_decisions \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python bench/decisions.py [--batch 50] [--rounds 6] [--profile] [--statements]

The decision is a go on a promise's first gate (Feasibility), which opens its next gate (Legal check):
`qualitygates.services.gate_decide`, one transaction, with its broker publish(es) after commit.

The reference is the same statements with the same parameters, captured from one service decision
(`connection.execute_wrapper`) and replayed on a fresh open gate of another promise (its ids swapped
in) through a plain psycopg connection, in one transaction each: what the database itself needs for
these writes. The two paths run interleaved in batches (service, raw, raw, service, ...) so that load
from the other users of the machine hits both alike; the ratio of the two rates is the figure.

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards,
and empties the Redis database of CELERY_BROKER_URL before and after (give it a number of its own).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

# Each table's ids start in a range of their own, so an id among a statement's parameters names one
# row unambiguously and can be swapped for the fresh promise's without touching other numbers.
ID_RANGES = {"promises_servicepromise": 10_000_000, "qualitygates_gatereview": 20_000_000,
             "qualitygates_gatecheck": 30_000_000, "promises_transitionlog": 40_000_000,
             "notifications_outboxevent": 50_000_000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=50, help="decisions per batch")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of (service batch, raw batch)")
    parser.add_argument("--profile", action="store_true", help="cProfile one extra service batch")
    parser.add_argument("--statements", action="store_true", help="print the statements of one decision")
    args = parser.parse_args()

    import django

    django.setup()
    from _support import throwaway_database
    from django.conf import settings
    from django.db import connection

    broker = settings.CELERY_BROKER_URL
    _flush_broker(broker)
    try:
        with throwaway_database():
            run(args, connection, broker)
    finally:
        _flush_broker(broker)


def _flush_broker(url: str) -> None:
    if url.startswith("redis://"):
        import redis

        redis.Redis.from_url(url).flushdb()


def run(args, connection, broker: str) -> None:
    from _gate_world import build_world, open_gates

    with connection.cursor() as cursor:
        for table, start in ID_RANGES.items():
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, start])
    world = build_world()
    needed = 2 + 2 * args.batch * args.rounds + (args.batch if args.profile else 0)
    started = time.perf_counter()
    gates = open_gates(world, needed)
    print(f"# {needed} open gates prepared in {time.perf_counter() - started:.1f} s; broker {broker.split('://')[0]}")

    # One decision first: the decider's teams are then cached on the user object, as they are after the
    # permission checks of a request, and the template holds the statements of every further decision.
    warm_up, template_gate, gates = gates[0], gates[1], gates[2:]
    decide_through_service(world, [warm_up])
    template, db_seconds, wall = capture(world, template_gate, connection)
    print(f"# statements per decision: {len(template)}; in one service decision {db_seconds * 1000:.1f} ms of "
          f"{wall * 1000:.1f} ms were spent waiting for the database ({db_seconds / wall:.0%})")
    if args.statements:
        for i, (sql, _params) in enumerate(template, start=1):
            print(f"  {i:2d}. {sql[:160]}")
    template_ids = ids_of(template_gate, connection)

    raw = RawReplay(connection.settings_dict, template, template_ids)
    service_seconds = raw_seconds = 0.0
    done = 0
    print(f"load before: {_load()}")
    for round_no in range(args.rounds):
        service_batch, raw_batch = gates[: args.batch], gates[args.batch: 2 * args.batch]
        gates = gates[2 * args.batch:]
        raw_targets = [ids_of(g, connection) for g in raw_batch]
        order = ("service", "raw") if round_no % 2 == 0 else ("raw", "service")
        for path in order:
            if path == "service":
                service_seconds += decide_through_service(world, service_batch)
            else:
                raw_seconds += raw.replay(raw_targets)
        done += args.batch
    service_rate, raw_rate = done / service_seconds, done / raw_seconds
    print(f"load after:  {_load()}")
    print(f"service gate_decide  {done:5d} decisions  {service_rate:7.1f} decisions/s  "
          f"{service_seconds / done * 1000:6.2f} ms each")
    print(f"raw SQL (psycopg)    {done:5d} decisions  {raw_rate:7.1f} decisions/s  "
          f"{raw_seconds / done * 1000:6.2f} ms each")
    print(f"ratio service/raw    {service_rate / raw_rate:.2f}")
    raw.close()

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        decide_through_service(world, gates[: args.batch])
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue())


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def decide_through_service(world, gates) -> float:
    from qualitygates import services as gs
    from qualitygates.checks import CheckInput
    from qualitygates.models import CheckResult, Decision

    inputs = [[CheckInput(check_id=c, result=CheckResult.MET) for c in g.check_ids] for g in gates]
    started = time.perf_counter()
    for gate, checks in zip(gates, inputs, strict=True):
        gs.gate_decide(review_id=gate.review_id, user=world.servicer, decision=Decision.GO, checks=checks)
    return time.perf_counter() - started


def capture(world, gate, connection):
    """The statements (sql, params) one service decision sends, and how long it waited for them."""
    statements: list[tuple[str, tuple | dict]] = []
    waited = [0.0]

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - started
            # Named parameters (the summaries' hand-written SQL) stay a mapping; the rest a tuple.
            statements.append((sql, dict(params) if isinstance(params, dict) else tuple(params or ())))

    with connection.execute_wrapper(wrapper):
        started = time.perf_counter()
        decide_through_service(world, [gate])
        wall = time.perf_counter() - started
    return statements, waited[0], wall


def ids_of(gate, connection) -> dict[str, list[int]]:
    """The rows a decision on this gate touches, in a fixed order, to map one gate's ids onto another's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM qualitygates_gatereview WHERE promise_id = %s AND round = 1 "
                       "ORDER BY \"order\", id LIMIT 2", [gate.promise_id])
        first, second = (row[0] for row in cursor.fetchall())
        cursor.execute("SELECT id FROM qualitygates_gatecheck WHERE review_id = %s ORDER BY \"order\", id",
                       [second])
        next_checks = [row[0] for row in cursor.fetchall()]
    assert first == gate.review_id
    return {"promise": [gate.promise_id], "review": [first], "next_review": [second],
            "checks": list(gate.check_ids), "next_checks": next_checks}


class RawReplay:
    """The captured statements replayed through psycopg, one transaction per decision."""

    def __init__(self, settings_dict: dict, template, template_ids: dict[str, list[int]]):
        import psycopg

        self.conn = psycopg.connect(dbname=settings_dict["NAME"], user=settings_dict["USER"],
                                    host=settings_dict["HOST"] or None, port=settings_dict["PORT"] or None,
                                    password=settings_dict["PASSWORD"] or None,
                                    cursor_factory=psycopg.ClientCursor)  # as Django's backend uses
        self.template = template
        self.template_ids = template_ids

    def _mapped(self, target_ids: dict[str, list[int]]):
        swap = {old: new for key, olds in self.template_ids.items()
                for old, new in zip(olds, target_ids[key], strict=True)}
        def mapped(value):
            return swap.get(value, value) if type(value) is int else value

        return [(sql, {k: mapped(v) for k, v in params.items()} if isinstance(params, dict)
                 else tuple(mapped(p) for p in params))
                for sql, params in self.template]

    def replay(self, targets) -> float:
        batches = [self._mapped(t) for t in targets]  # prepared outside the timing, like the service's input
        started = time.perf_counter()
        with self.conn.cursor() as cursor:
            for statements in batches:
                for sql, params in statements:
                    cursor.execute(sql, params or None)
                self.conn.commit()
        return time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


if __name__ == "__main__":
    main()
