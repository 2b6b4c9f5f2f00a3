"""Benchmark of the KVP read side: the category record, the improvement effects, the gate escapes and the
dashboard on a bulk-loaded data set. Prints wall time (best of N runs) and query count per selector.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench .venv/bin/python bench/kvp_selectors.py \
        [--promises 20000] [--runs 5]

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards.
The data is bulk-inserted directly (this measures reads, not the services that write them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--promises", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from _support import throwaway_database
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with throwaway_database():
        load(args.promises)
        from django.contrib.auth import get_user_model

        from feedback.selectors.dashboard import kvp_dashboard
        from feedback.selectors.guidance import category_record
        from feedback.selectors.improvements import improvement_effects
        from feedback.selectors.signals import gate_escapes

        category_id = _first_category_id()
        manager = get_user_model()(username="bench-manager", is_superuser=True)
        cases = [
            ("category_record", lambda: category_record(category_id=category_id)),
            ("improvement_effects", lambda: improvement_effects()),
            ("gate_escapes", lambda: gate_escapes()),
            ("kvp_dashboard", lambda: kvp_dashboard(user=manager)),
        ]
        print(f"vendor={connection.vendor} promises={args.promises} runs={args.runs}")
        for name, fn in cases:
            best = float("inf")
            for _ in range(args.runs):
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    fn()
                    best = min(best, time.perf_counter() - started)
            print(f"{name:22s} best {best * 1000:8.1f} ms  queries {len(ctx.captured_queries)}")


def _first_category_id() -> int:
    from promises.models import PromiseCategory

    return PromiseCategory.objects.order_by("pk").values_list("pk", flat=True).first()


def load(n_promises: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from feedback.models import ImprovementItem
    from promises.models import Customer, Metric, PromiseCategory, ServicePromise
    from qualitygates.models import GateDefinition, GatePlan, GateReview

    rng = random.Random(7)
    now = timezone.now()
    team = Group.objects.create(name="service")
    owner = User.objects.create(username="bench")
    customer = Customer.objects.create(name="Bench GmbH")
    categories, definitions = [], {}
    for i in range(5):
        category = PromiseCategory.objects.create(name=f"Category {i}", slug=f"category-{i}")
        plan = GatePlan.objects.create(category=category, name=f"plan {i}")
        definitions[category.pk] = [
            GateDefinition.objects.create(plan=plan, order=o, name=name, step=step, owning_team=team)
            for o, (name, step) in enumerate([("Feasibility", "approval"), ("Legal", "approval"),
                                              ("Delivery readiness", "delivery")], start=1)]
        categories.append(category)
    reasons = ["technician unavailable", "spare part missing", "customer not on site", "wrong estimate"]
    response_time = Metric.objects.create(name="response time", unit="h", direction="lower", kind="working_hours")
    response_time.categories.add(*categories)
    promises = []
    for i in range(n_promises):
        category = categories[i % len(categories)]
        verified_at = now - dt.timedelta(days=rng.randint(0, 500), minutes=rng.randint(0, 1440))
        actual = Decimal(rng.choice([2, 3, 3.5, 4, 5, 6]))
        promises.append(ServicePromise(
            title=f"p{i}", category=category, customer=customer, origin_department="sales", channel="contract",
            metric=response_time, comparison="lte", target_value=Decimal(4), due_date=now.date(),
            owner=owner, state="closed", actual_value=actual, verified_at=verified_at,
            outcome_reason=rng.choice(reasons) if actual > 4 else "kept"))
    ServicePromise.objects.bulk_create(promises, batch_size=2000)
    ServicePromise.objects.update(created_at=now - dt.timedelta(days=200))
    reviews = []
    for p in ServicePromise.objects.values("pk", "category_id", "verified_at"):
        for d in definitions[p["category_id"]]:
            opened = p["verified_at"] - dt.timedelta(days=10, hours=rng.randint(1, 48))
            reviews.append(GateReview(promise_id=p["pk"], definition=d, order=d.order, name=d.name, step=d.step,
                                      owning_team=team, decision_hours=16, state="passed", opened_at=opened,
                                      decided_at=opened + dt.timedelta(hours=rng.randint(1, 40))))
    GateReview.objects.bulk_create(reviews, batch_size=5000)
    for i, category in enumerate(categories * 4):
        item = ImprovementItem(
            title=f"item {i}", state="standardized", owner=owner, priority="high", start_date=now.date(),
            due_date=now.date(), budget=Decimal(0), measured_at=now,
            standardized_at=now - dt.timedelta(days=rng.randint(30, 300)))
        item.save()
        item.categories.add(category)


if __name__ == "__main__":
    main()
