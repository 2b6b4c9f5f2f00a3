"""The read paths at a scale, next to hand-written SQL of the same question and the ideal plan's time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_200k .venv/bin/python bench/queries.py \
        [--runs 5] [--explain-all] [--label before]

Runs against the database of DATABASE_URL as it is (fill it with bench/generate.py first); it
writes nothing. Each path is run `--runs` times in-process (server time: Django, the selectors,
the serializers and the database, no network) and its median printed, with its query count. Next
to it:

- **hand SQL**: the best hand-written SQL this script knows for the same question over the same
  tables (the raw rows before the summaries existed; the summary tables once they exist): the sum
  of the statements' wall times, median of the runs;
- **ideal**: the execution time PostgreSQL reports (EXPLAIN ANALYZE) for the ideal plan of the
  question's core (e.g. the first page by index, without the count); sum over statements.

The paths: the managers' board (`feedback.selectors.dashboard.kvp_dashboard`), a category's record
as `/api/categories/{id}/record/` serves it, the open-gate queue as `/api/gates/?state=open` serves
it to a gatekeeper, the first page of `/api/promises/` for a manager and for a seller. Then
`EXPLAIN (ANALYZE, BUFFERS)` of the slowest statement of the slowest path. `--json FILE` saves the
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

WINDOW = "365 days"


def hand_sql(summaries: bool) -> dict[str, list[str]]:
    """The same questions in SQL: over the raw rows, or over the summary tables once they exist."""
    if summaries:
        from bench.queries_summary_sql import HAND

        return {**HAND, "gate_queue": QUEUE_SQL, "promises_manager": [CAPPED_COUNT["promises_manager"], LIST_SQL[1]],
                "promises_seller": [CAPPED_COUNT["promises_seller"], LIST_SQL_SELLER[1]]}
    return {
        "dashboard": [
            # keep rate per category over the window
            f"""SELECT c.id, c.name,
                   COUNT(p.id) FILTER (WHERE p.actual_value <= p.target_value AND p.comparison = 'lte'
                                          OR p.actual_value >= p.target_value AND p.comparison = 'gte'
                                          OR p.actual_value = p.target_value AND p.comparison = 'eq'),
                   COUNT(p.id) FILTER (WHERE NOT (p.actual_value <= p.target_value AND p.comparison = 'lte'
                                          OR p.actual_value >= p.target_value AND p.comparison = 'gte'
                                          OR p.actual_value = p.target_value AND p.comparison = 'eq'))
               FROM promises_promisecategory c LEFT JOIN promises_servicepromise p
                 ON p.category_id = c.id AND p.actual_value IS NOT NULL
                AND p.verified_at >= now() - interval '{WINDOW}' AND p.verified_at <= now()
              GROUP BY c.id ORDER BY c.name""",
            # gate escapes: distinct promises per definition that passed, were verified, broke
            """WITH passed AS (SELECT DISTINCT r.definition_id, r.promise_id FROM qualitygates_gatereview r
                                JOIN qualitygates_gatedefinition d ON d.id = r.definition_id
                               WHERE r.state = 'passed' AND d.step <> 'closure')
               SELECT x.definition_id, COUNT(*),
                      COUNT(*) FILTER (WHERE p.actual_value IS NOT NULL AND p.verified_at IS NOT NULL),
                      COUNT(*) FILTER (WHERE p.actual_value > p.target_value AND p.verified_at IS NOT NULL)
                 FROM passed x JOIN promises_servicepromise p ON p.id = x.promise_id GROUP BY 1""",
            """SELECT r.definition_id, p.outcome_reason, COUNT(DISTINCT p.id) FROM qualitygates_gatereview r
                 JOIN promises_servicepromise p ON p.id = r.promise_id
                WHERE r.state = 'passed' AND p.actual_value > p.target_value AND p.verified_at IS NOT NULL
                  AND p.outcome_reason <> '' GROUP BY 1, 2""",
            # improvement effects: before/after windows of 90 days around standardization, by index
            """SELECT i.id,
                      (SELECT COUNT(*) FILTER (WHERE p.actual_value <= p.target_value)
                         FROM promises_servicepromise p WHERE p.category_id = ic.promisecategory_id
                          AND p.verified_at >= i.standardized_at - interval '90 days'
                          AND p.verified_at < i.standardized_at AND p.actual_value IS NOT NULL),
                      (SELECT COUNT(*) FILTER (WHERE p.actual_value <= p.target_value)
                         FROM promises_servicepromise p WHERE p.category_id = ic.promisecategory_id
                          AND p.verified_at >= i.standardized_at
                          AND p.verified_at < i.standardized_at + interval '90 days' AND p.actual_value IS NOT NULL)
                 FROM feedback_improvementitem i JOIN feedback_improvementitem_categories ic
                   ON ic.improvementitem_id = i.id WHERE i.state = 'standardized'""",
            """SELECT * FROM feedback_improvementitem WHERE state IN
                 ('proposed', 'accepted', 'planned', 'in_progress', 'checking') ORDER BY created_at DESC, id DESC""",
        ],
        "record": [
            f"""SELECT COUNT(*) FILTER (WHERE created_at >= now() - interval '{WINDOW}' AND state <> 'draft'),
                       COUNT(*) FILTER (WHERE actual_value <= target_value AND verified_at >= now() - interval '{WINDOW}'),
                       COUNT(*) FILTER (WHERE actual_value > target_value AND verified_at >= now() - interval '{WINDOW}')
                  FROM promises_servicepromise WHERE category_id = %(category)s""",
            f"""SELECT outcome_reason, COUNT(*) FROM promises_servicepromise WHERE category_id = %(category)s
                  AND actual_value > target_value AND verified_at >= now() - interval '{WINDOW}'
                  AND outcome_reason <> '' GROUP BY 1 ORDER BY 2 DESC LIMIT 3""",
            f"""SELECT r.step, r.name, COUNT(*), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY r.decided_at - r.opened_at)
                  FROM qualitygates_gatereview r JOIN promises_servicepromise p ON p.id = r.promise_id
                 WHERE p.category_id = %(category)s AND r.state = 'passed' AND r.opened_at IS NOT NULL
                   AND r.decided_at >= now() - interval '{WINDOW}' GROUP BY 1, 2""",
        ],
        "gate_queue": QUEUE_SQL,
        "promises_manager": LIST_SQL,
        "promises_seller": LIST_SQL_SELLER,
    }


QUEUE_SQL = [
    """SELECT COUNT(*) FROM qualitygates_gatereview WHERE owning_team_id = ANY(%(teams)s) AND state = 'open'""",
    """SELECT r.*, p.* FROM qualitygates_gatereview r JOIN promises_servicepromise p ON p.id = r.promise_id
        WHERE r.owning_team_id = ANY(%(teams)s) AND r.state = 'open' ORDER BY r.due_at, r.id LIMIT 25""",
]
LIST_SQL = [
    "SELECT COUNT(*) FROM promises_servicepromise",
    """SELECT p.*, c.name, m.name, u.username, cu.name FROM promises_servicepromise p
         JOIN promises_promisecategory c ON c.id = p.category_id JOIN promises_metric m ON m.id = p.metric_id
         JOIN auth_user u ON u.id = p.owner_id LEFT JOIN promises_customer cu ON cu.id = p.customer_id
        ORDER BY p.created_at DESC, p.id DESC LIMIT 25""",
]
LIST_SQL_SELLER = [
    """SELECT COUNT(*) FROM promises_servicepromise WHERE owner_id = %(user)s
        OR (origin_department = ANY(%(departments)s) AND state <> 'draft')""",
    """SELECT p.* FROM promises_servicepromise p WHERE owner_id = %(user)s
        OR (origin_department = ANY(%(departments)s) AND state <> 'draft')
        ORDER BY p.created_at DESC, p.id DESC LIMIT 25""",
]
# The ideal plan of each question's core: what an index (or a summary) answers directly.
IDEAL = {
    "gate_queue": [QUEUE_SQL[1]],
    "promises_manager": [LIST_SQL[1]],
    "promises_seller": [LIST_SQL_SELLER[1]],
}
# Once the summaries exist, a list's count is capped at the exact-count limit (api/pagination.py).
CAPPED_COUNT = {
    "promises_manager": "SELECT COUNT(*) FROM (SELECT 1 FROM promises_servicepromise LIMIT 10001) x",
    "promises_seller": """SELECT COUNT(*) FROM (SELECT 1 FROM promises_servicepromise WHERE owner_id = %(user)s
        OR (origin_department = ANY(%(departments)s) AND state <> 'draft') LIMIT 10001) x""",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="")
    parser.add_argument("--json", default="")
    parser.add_argument("--only", default="", help="comma-separated path names")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from feedback.selectors.dashboard import kvp_dashboard
    from promises.models import PromiseCategory, ServicePromise

    manager = User.objects.get(username="bench-managers-0")
    gatekeeper = User.objects.get(username="bench-service-0")
    seller = User.objects.get(username="bench-sales-0")
    category_id = PromiseCategory.objects.order_by("pk").values_list("pk", flat=True)[0]

    def client(user):
        c = APIClient(HTTP_HOST="localhost")
        c.force_authenticate(user)
        return c

    def get(c, url):
        def run():
            response = c.get(url)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            return response
        return run

    def dashboard():
        manager_fresh = User.objects.get(pk=manager.pk)  # roles are cached per user object, as per request
        board = kvp_dashboard(user=manager_fresh)
        return [len(v) if isinstance(v, list) else v for v in board.values()]

    paths = {
        "dashboard": dashboard,
        "record": get(client(manager), f"/api/categories/{category_id}/record/"),
        "gate_queue": get(client(gatekeeper), "/api/gates/?state=open"),
        "promises_manager": get(client(manager), "/api/promises/"),
        "promises_seller": get(client(seller), "/api/promises/"),
    }
    if args.only:
        paths = {k: v for k, v in paths.items() if k in args.only.split(",")}
    params = {"category": category_id, "teams": list(gatekeeper.groups.values_list("pk", flat=True)),
              "user": seller.pk, "departments": ["sales"]}
    summaries = _summaries_exist(connection)
    hand = hand_sql(summaries)
    load = _uptime()
    n = ServicePromise.objects.count()
    print(f"# {args.label} promises={n} runs={args.runs} summaries={summaries} load: {load}")
    print(f"{'path':18s} {'median ms':>10s} {'queries':>8s} {'hand ms':>9s} {'ratio':>6s} {'ideal ms':>9s}")
    results, slowest = {}, None
    for name, fn in paths.items():
        fn()  # warm: caches, plans, connections
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
        med = statistics.median(times)
        hand_ms = _median_sql(connection, hand.get(name, []), params, args.runs)
        ideal_ms = _ideal(connection, IDEAL.get(name, hand.get(name, [])), params)
        results[name] = {"median_ms": round(med, 1), "queries": len(ctx.captured_queries),
                         "hand_ms": round(hand_ms, 1), "ratio": round(med / hand_ms, 2) if hand_ms else None,
                         "ideal_ms": round(ideal_ms, 1), "all_ms": [round(x, 1) for x in times]}
        print(f"{name:18s} {med:10.1f} {len(ctx.captured_queries):8d} {hand_ms:9.1f} "
              f"{(med / hand_ms if hand_ms else 0):6.2f} {ideal_ms:9.1f}", flush=True)
        worst = max(ctx.captured_queries, key=lambda q: float(q["time"]))
        if slowest is None or med > slowest[1]:
            slowest = (name, med, worst)
    name, med, worst = slowest
    print(f"\n## EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the slowest path ({name}, "
          f"{float(worst['time']) * 1000:.1f} ms)\n")
    print(worst["sql"][:2000] + ("…" if len(worst["sql"]) > 2000 else ""))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + worst["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(plan)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"label": args.label, "promises": n, "load": load,
                                               "summaries": summaries, "results": results,
                                               "slowest": {"path": name, "sql": worst["sql"], "plan": plan}},
                                              indent=1))


def _summaries_exist(connection) -> bool:
    if "promises_promiseday" not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM promises_promiseday)")
        return cursor.fetchone()[0]


def _median_sql(connection, statements: list[str], params: dict, runs: int) -> float:
    if not statements:
        return 0.0
    totals = []
    with connection.cursor() as cursor:
        for _ in range(runs + 1):
            t = time.perf_counter()
            for sql in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            totals.append((time.perf_counter() - t) * 1000)
    return statistics.median(totals[1:])


def _ideal(connection, statements: list[str], params: dict) -> float:
    total = 0.0
    with connection.cursor() as cursor:
        for sql in statements:
            runs = []
            for _ in range(3):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                runs.append(cursor.fetchone()[0][0]["Execution Time"])
            total += statistics.median(runs)
    return total


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
