"""The small world the decision benchmarks decide in: teams, users, one category with a four-gate plan
(five criteria per gate, as bench/gate_engine.py), and promises submitted so that their first gate is
open. Written through the services, as users do. Call after django.setup()."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass
class World:
    seller: object
    servicer: object
    lawyer: object
    deliverer: object
    category: object
    metric: object
    customer: object


@dataclass(frozen=True)
class OpenGate:
    """A promise whose first gate (Feasibility, approval step) is open; a go opens the Legal check."""

    promise_id: int
    review_id: int
    check_ids: tuple[int, ...]


def build_world() -> World:
    from django.contrib.auth.models import Group, User

    from core import roles
    from promises.models import Customer, Metric, PromiseCategory
    from qualitygates.models import GateCriterion, GateDefinition, GatePlan, GateStep, WorkingCalendar

    teams = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL_TEAMS}
    WorkingCalendar.objects.get_or_create(team=teams[roles.SERVICE], defaults={"holiday_subdivision": "BY"})

    def user(name, team):
        u = User.objects.create_user(name, password="bench-password")
        u.groups.add(teams[team])
        return u

    seller, servicer = user("bench-seller", roles.SALES), user("bench-servicer", roles.SERVICE)
    lawyer, deliverer = user("bench-lawyer", roles.LEGAL), user("bench-deliverer", roles.DELIVERY)
    category = PromiseCategory.objects.create(name="Bench on-site service", slug="bench-on-site")
    plan = GatePlan.objects.create(category=category, name="Bench plan")
    metric = Metric.objects.create(name="bench response time", unit="h", direction="lower", kind="working_hours")
    metric.categories.add(category)
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
    return World(seller=seller, servicer=servicer, lawyer=lawyer, deliverer=deliverer, category=category,
                 metric=metric, customer=customer)


def open_gates(world: World, count: int) -> list[OpenGate]:
    """`count` promises created and submitted through the services: each has its first gate open."""
    from promises import services as ps
    from qualitygates.models import GateCheck, GateReview, ReviewState

    promise_ids = []
    for _ in range(count):
        promise = ps.promise_create(user=world.seller, title="Technician within 4 h", category=world.category,
                                    customer=world.customer, origin_department="sales", channel="contract",
                                    metric=world.metric, target_value=Decimal("4"), due_date=dt.date(2030, 1, 1))
        ps.promise_submit(promise_id=promise.pk, user=world.seller)
        promise_ids.append(promise.pk)
    reviews = dict(GateReview.objects.filter(promise_id__in=promise_ids, state=ReviewState.OPEN)
                   .values_list("promise_id", "pk"))
    checks: dict[int, list[int]] = {}
    for review_id, check_id in (GateCheck.objects.filter(review_id__in=reviews.values())
                                .order_by("review_id", "order", "id").values_list("review_id", "pk")):
        checks.setdefault(review_id, []).append(check_id)
    return [OpenGate(promise_id=p, review_id=reviews[p], check_ids=tuple(checks[reviews[p]])) for p in promise_ids]
