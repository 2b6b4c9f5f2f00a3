"""The product's web pages at a scale, rendered in-process through Django's test client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_200k .venv/bin/python bench/pages.py \
        [--runs 5] [--label before] [--json FILE] [--only dashboard,gates]

Runs against the database of DATABASE_URL as it is (fill it with bench/generate.py first); it
writes nothing but the users' sessions. Each page is fetched once to warm up, then `--runs` times;
it prints the median server time (URL resolution, middleware, view, selectors, template, database;
no network) and the number of queries of one request. The pages: the manager's dashboard
(`/dashboard/`, its default range: the last twelve months), the open-gate queue of a service
gatekeeper (`/gates/`), the first page of the promise list for a manager and for a seller
(`/promises/`), and the manager's home (`/`). Then `EXPLAIN (ANALYZE, BUFFERS)` of the slowest
statement of the slowest page.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="")
    parser.add_argument("--json", default="")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--dashboard-query", default="", help="a filter for the dashboard, e.g. date_from=2026-01-15")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from promises.models import ServicePromise

    def client(username):
        c = Client(HTTP_HOST="localhost")
        c.force_login(User.objects.get(username=username))
        return c

    manager, gatekeeper, seller = client("bench-managers-0"), client("bench-service-0"), client("bench-sales-0")
    dashboard_url = "/dashboard/" + (f"?{args.dashboard_query}" if args.dashboard_query else "")
    pages = {
        "dashboard": (manager, dashboard_url),
        "gates": (gatekeeper, "/gates/"),
        "promises_manager": (manager, "/promises/"),
        "promises_seller": (seller, "/promises/"),
        "home_manager": (manager, "/"),
    }
    if args.only:
        pages = {k: v for k, v in pages.items() if k in args.only.split(",")}
    load = _uptime()
    n = ServicePromise.objects.count()
    print(f"# {args.label} promises={n} runs={args.runs} load: {load}")
    print(f"{'page':18s} {'median ms':>10s} {'min ms':>8s} {'max ms':>8s} {'queries':>8s} {'slowest q ms':>13s}")
    results, slowest = {}, None
    for name, (c, url) in pages.items():
        response = c.get(url)  # warm: caches, plans, connections
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                response = c.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        med = statistics.median(times)
        worst = max(ctx.captured_queries, key=lambda q: float(q["time"]))
        results[name] = {"url": url, "median_ms": round(med, 1), "queries": len(ctx.captured_queries),
                         "all_ms": [round(x, 1) for x in times], "slowest_query_ms": float(worst["time"]) * 1000}
        print(f"{name:18s} {med:10.1f} {min(times):8.1f} {max(times):8.1f} {len(ctx.captured_queries):8d} "
              f"{float(worst['time']) * 1000:13.1f}", flush=True)
        if slowest is None or med > slowest[1]:
            slowest = (name, med, worst)
    name, med, worst = slowest
    print(f"\n## EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the slowest page ({name}, "
          f"{float(worst['time']) * 1000:.1f} ms)\n")
    print(worst["sql"][:3000] + ("…" if len(worst["sql"]) > 3000 else ""))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + worst["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(plan)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"label": args.label, "promises": n, "load": load, "results": results,
                                               "slowest": {"page": name, "sql": worst["sql"], "plan": plan}},
                                              indent=1))


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
