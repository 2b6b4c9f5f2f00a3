"""Benchmark of the feedback CSV import: validate-and-insert time and query count for N rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench .venv/bin/python bench/feedback_import.py [--rows 10000]

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()

    import django

    django.setup()
    from _support import throwaway_database
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feedback.models import Feedback
    from feedback.services.importing import feedback_import_csv
    from promises.models import Customer, PromiseCategory

    with throwaway_database():
        user = User.objects.create(username="importer")
        user.groups.add(Group.objects.create(name="service"))
        for i in range(5):
            PromiseCategory.objects.create(name=f"Category {i}", slug=f"category-{i}")
            Customer.objects.create(name=f"Kunde {i}", crm_reference=f"CRM-{i}")
        kinds = ["complaint", "praise", "suggestion"]
        lines = ["kind,channel,text,category,customer,severity,csat,nps,received_at,external_reference"]
        for i in range(args.rows):
            lines.append(f"{kinds[i % 3]},survey,\"Antwort {i}, mit Komma\",category-{i % 5},CRM-{i % 5},"
                         f"medium,{1 + i % 5},{i % 11},2026-03-{1 + i % 28:02d},S-{i}")
        content = ("\n".join(lines) + "\n").encode()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = feedback_import_csv(user=user, content=content)
            elapsed = time.perf_counter() - started
        assert result.imported == args.rows == Feedback.objects.count()
        bad = content.replace(b"category-3,", b"category-x,", 1)
        started = time.perf_counter()
        try:
            feedback_import_csv(user=user, content=bad)
        except Exception as exc:  # noqa: BLE001 - the refusal is what is measured
            refused = type(exc).__name__
        refuse_time = time.perf_counter() - started
        print(f"vendor={connection.vendor} rows={args.rows} bytes={len(content)}")
        print(f"import      {elapsed * 1000:8.1f} ms  ({args.rows / elapsed:,.0f} rows/s)  "
              f"queries {len(ctx.captured_queries)}")
        print(f"bad file    {refuse_time * 1000:8.1f} ms  refused with {refused}, nothing written")


if __name__ == "__main__":
    main()
