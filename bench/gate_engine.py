"""Benchmark of the gate engine: the write path through the services (submit, decide, a whole lifecycle,
the condition-lapse sweep), the reads a gatekeeper's pages run, and the working-time arithmetic.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_gates .venv/bin/python bench/gate_engine.py \
        [--promises 200] [--runs 5]

It creates its own throw-away database (the test database of DATABASE_URL) and drops it afterwards.
Everything is written through the services, as users and the beat task do, one transaction per call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--promises", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from _support import throwaway_database
    from django.db import connection

    with throwaway_database():
        print(f"vendor={connection.vendor} promises={args.promises} runs={args.runs} "
              f"load={os.getloadavg()[0]:.1f}")
        run(args.promises, args.runs)


class Timer:
    def __init__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.samples: list[float] = []
        self.queries: list[int] = []
        self._ctx = lambda: CaptureQueriesContext(connection)

    def __call__(self, fn):
        with self._ctx() as ctx:
            started = time.perf_counter()
            result = fn()
            self.samples.append(time.perf_counter() - started)
        self.queries.append(len(ctx.captured_queries))
        return result

    def line(self, name: str) -> str:
        ms = sorted(s * 1000 for s in self.samples)
        p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
        return (f"{name:28s} n={len(ms):5d}  p50 {statistics.median(ms):7.2f} ms  p95 {p95:7.2f} ms  "
                f"queries {min(self.queries)}-{max(self.queries)}")


def run(n: int, runs: int) -> None:
    from django.contrib.auth.models import Group, User

    from core import roles
    from promises import selectors as promise_selectors
    from promises import services as ps
    from promises.models import Customer, Metric, PromiseCategory
    from qualitygates import selectors as gate_selectors
    from qualitygates import services as gs
    from qualitygates.checks import CheckInput
    from qualitygates.conditions import ConditionInput
    from qualitygates.models import (
        CheckResult,
        GateCriterion,
        GateDefinition,
        GatePlan,
        GateReview,
        GateStep,
        WorkingCalendar,
    )
    from qualitygates.working_time import add_working_time

    teams = {name: Group.objects.create(name=name) for name in roles.ALL_TEAMS}
    WorkingCalendar.objects.create(team=teams[roles.SERVICE], holiday_subdivision="BY")

    def user(name, team):
        u = User.objects.create_user(name, password="x")
        u.groups.add(teams[team])
        return u

    seller, servicer, lawyer, deliverer = (user("seller", roles.SALES), user("servicer", roles.SERVICE),
                                           user("lawyer", roles.LEGAL), user("deliverer", roles.DELIVERY))
    category = PromiseCategory.objects.create(name="On-site service", slug="on-site")
    plan = GatePlan.objects.create(category=category, name="On-site plan")
    response_time = Metric.objects.create(name="response time", unit="h", direction="lower", kind="working_hours")
    response_time.categories.add(category)
    for order, (name, step, team) in enumerate([
            ("Feasibility", GateStep.APPROVAL, roles.SERVICE), ("Legal check", GateStep.APPROVAL, roles.LEGAL),
            ("Delivery readiness", GateStep.DELIVERY, roles.DELIVERY),
            ("Fulfilment verified", GateStep.CLOSURE, roles.SERVICE)], start=1):
        definition = GateDefinition.objects.create(plan=plan, order=order, name=name, step=step,
                                                   owning_team=teams[team])
        for i in range(5):
            GateCriterion.objects.create(definition=definition, order=i, text=f"{name} criterion {i}",
                                         requirement="must" if i < 3 else "should")
    customer = Customer.objects.create(name="Stadtwerke Beispiel GmbH")

    def create():
        return ps.promise_create(user=seller, title="Technician within 4 h", category=category, customer=customer,
                                 origin_department="sales", channel="contract", metric=response_time,
                                 target_value=Decimal("4"), due_date=dt.date(2030, 1, 1))

    def go(promise, who, **kwargs):
        review = GateReview.objects.get(promise=promise, state="open")
        checks = [CheckInput(check_id=c.pk, result=CheckResult.MET) for c in review.checks.all()]
        return gs.gate_decide(review_id=review.pk, user=who, decision="go", checks=checks, **kwargs)

    submit, decide, lifecycle = Timer(), Timer(), Timer()
    promises = [create() for _ in range(n)]
    for promise in promises:
        submit(lambda p=promise: ps.promise_submit(promise_id=p.pk, user=seller))
    for promise in promises[: n // 2]:
        decide(lambda p=promise: go(p, servicer))

    def whole(promise):
        ps.promise_submit(promise_id=promise.pk, user=seller)
        go(promise, servicer)
        go(promise, lawyer)
        ps.promise_commit(promise_id=promise.pk, user=seller)
        ps.promise_handover(promise_id=promise.pk, user=seller)
        go(promise, deliverer)
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))
        go(promise, servicer)

    for _ in range(max(10, n // 10)):
        promise = create()
        lifecycle(lambda p=promise: whole(p))

    # A busy promise: five recycled rounds with conditions, for the detail page
    busy = create()
    ps.promise_submit(promise_id=busy.pk, user=seller)
    for _ in range(5):
        go(busy, servicer, conditions=[ConditionInput(description="Stock", owner=deliverer,
                                                      due_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))])
        review = GateReview.objects.get(promise=busy, state="open")
        gs.gate_decide(review_id=review.pk, user=lawyer, decision="recycle", comment="Another round")
        ps.promise_resubmit(promise_id=busy.pk, user=seller)

    detail, inbox, gate_page = Timer(), Timer(), Timer()
    for _ in range(runs):
        detail(lambda: _touch_detail(promise_selectors.promise_detail(user=seller, promise_id=busy.pk)))
        inbox(lambda: [(r.name, r.promise.title, r.promise.owner.username) for r in
                       gate_selectors.gate_review_list_for_user(user=servicer, states=["open"])[:50]])
        review_id = GateReview.objects.filter(state="open").values_list("pk", flat=True).first()
        gate_page(lambda rid=review_id: _touch_gate(gate_selectors.gate_review_detail(user=servicer, review_id=rid)))

    # The beat sweep: conditions of n // 2 conditional goes, all past due
    lapse_promises = [create() for _ in range(n // 2)]
    for promise in lapse_promises:
        ps.promise_submit(promise_id=promise.pk, user=seller)
        go(promise, servicer, conditions=[{"description": "Stock", "owner": deliverer.pk,
                                           "due_at": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)}])
    sweep = Timer()
    lapsed = sweep(lambda: gs.gate_conditions_lapse_due(now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))

    calendar = gate_selectors.team_calendar(teams[roles.SERVICE].pk)
    start = dt.datetime(2027, 1, 5, 15, 0, tzinfo=dt.UTC)
    started = time.perf_counter()
    calls = 20000
    for i in range(calls):
        add_working_time(start + dt.timedelta(hours=i % 200), 16 * 3600, calendar)
    per_call_us = (time.perf_counter() - started) / calls * 1e6

    print(submit.line("promise_submit"))
    print(decide.line("gate_decide go"))
    print(lifecycle.line("lifecycle (submit..closed)"))
    print(detail.line("promise_detail (24 gates)"))
    print(inbox.line("gate list, first 50"))
    print(gate_page.line("gate_review_detail"))
    print(f"{'lapse sweep':28s} {lapsed} conditions in {sweep.samples[0] * 1000:.0f} ms "
          f"({sweep.samples[0] * 1000 / max(lapsed, 1):.2f} ms each), queries {sweep.queries[0]}")
    print(f"{'add_working_time 16 h':28s} {per_call_us:.1f} us per call")


def _touch_detail(promise) -> None:
    for review in promise.gate_reviews.all():
        _ = [review.owning_team.name, [c.text for c in review.checks.all()],
             [c.owner.username for c in review.conditions.all()]]
    _ = [(t.action, t.actor_id and t.actor.username) for t in promise.trail.all()]


def _touch_gate(review) -> None:
    _ = [review.promise.title, review.owning_team.name, [c.text for c in review.checks.all()],
         list(review.conditions.all())]


if __name__ == "__main__":
    main()
