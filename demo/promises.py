"""The demo's promises: fifty promises in every state of the lifecycle, recorded and moved only
through the services, as users would, so their gate reviews, checks, conditions, trail and outbox
events are real. Each is keyed by its CRM reference (DEMO-001 …) and built in one transaction: a
second run finds it and leaves it alone, and a run that fails half-way leaves no half-built promise.
Its history is replayed on the demo clock from a start in the past.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from core import roles
from feedback.selectors.guidance import guidance_current
from promises import services as ps
from promises.models import Customer, Metric, PromiseCategory, PromiseState, ServicePromise
from qualitygates import services as gs
from qualitygates.checks import CheckInput
from qualitygates.conditions import ConditionInput
from qualitygates.models import (
    CheckResult,
    Decision,
    GateCondition,
    GateReview,
    GateStep,
    Requirement,
    ReviewState,
)

from .clock import DemoClock

User = get_user_model()
S = PromiseState
A, D, C = GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE
MUST = Requirement.MUST


@dataclass(frozen=True)
class PromiseSpec:
    """One kind of promise a maker gives: the demo varies customer, owner and state over these. Its
    title, description and reasons are in one language, as one person would write them."""

    category: str
    title: str
    description: str
    metric: str  # the English name of a catalogue metric (demo/catalogue.py)
    comparison: str
    target: str
    unit: str  # stated with the promise, and checked against the metric's
    channel: str
    department: str
    kept_value: str
    missed_value: str
    broken_reason: str
    segment: str = ""


SPECS = [
    PromiseSpec("on-site-service-response", "Technician on site within 4 hours",
                "For the bottling plant we promise a technician on site within 4 hours of a fault report.",
                "response time", "lte", "4", "h", "contract", "sales", "3.5", "6",
                "Technician stuck on the A9 after an accident; no second technician free in the region."),
    PromiseSpec("on-site-service-response", "Vor-Ort-Service am nächsten Werktag",
                "Reaktionszeit für die Kältetechnik: Techniker am nächsten Werktag vor Ort.",
                "response time", "lte", "9", "h", "offer", "presales", "8", "14",
                "Ersatzteil war nicht im Depot München vorrätig."),
    PromiseSpec("delivery-lead-time", "Delivery in 10 working days",
                "Delivery of 40 replacement pumps within 10 working days of the order.",
                "lead time", "lte", "10", "working days", "offer", "sales", "9", "13",
                "Supplier delayed the castings by three days; no alternative supplier had stock."),
    PromiseSpec("delivery-lead-time", "Lieferung der Ersatzteile binnen 5 Werktagen",
                "Ersatzteilpaket für die Wartungssaison, Lieferung binnen 5 Werktagen.",
                "lead time", "lte", "5", "working days", "call", "sales", "4", "7",
                "Spediteur hat die Abholung zweimal verschoben."),
    PromiseSpec("hotline-24-7", "24/7 hotline answered within 60 seconds",
                "Round-the-clock hotline for the hospital's building services, answered within 60 seconds.",
                "answer time (90th percentile)", "lte", "60", "s", "contract", "sales", "45", "95",
                "Night shift short-staffed over the Easter holidays."),
    PromiseSpec("hotline-24-7", "Hotline rund um die Uhr – Erreichbarkeit 99 %",
                "Kampagne: Servicehotline 24/7 mit mindestens 99 % Erreichbarkeit.",
                "availability", "gte", "99", "%", "campaign", "marketing", "99.4", "97.8",
                "Telefonanlage fiel nach einem Update sechs Stunden aus.",
                segment="Mittelstand Bayern"),
    PromiseSpec("data-migration", "Free migration of your customer data",
                "Free transfer of the customer data from the legacy system, completed within 20 working days.",
                "migration time", "lte", "20", "working days", "offer", "presales", "18", "27",
                "The legacy export contained 30 % duplicates that had to be cleaned by hand."),
    PromiseSpec("data-migration", "Datenmigration ohne Ausfallzeit",
                "Umzug des Warenwirtschaftssystems mit höchstens 2 Stunden Ausfallzeit am Wochenende.",
                "downtime", "lte", "2", "h", "meeting", "presales", "1.5", "5",
                "Rollback nötig, weil die Schnittstelle zur Buchhaltung fehlte."),
    PromiseSpec("preventive-maintenance", "Preventive maintenance twice a year",
                "Two preventive maintenance visits per year for all compressors.",
                "visits per year", "gte", "2", "visits", "contract", "sales", "2", "1",
                "Second visit cancelled because the customer's site was closed for renovation."),
    PromiseSpec("preventive-maintenance", "Wartung im Quartalsrhythmus – Frühjahrsaktion",
                "Social-Media-Aktion: vierteljährliche Wartung für Neukunden.",
                "visits per year", "gte", "4", "visits", "social_media", "marketing", "4", "3",
                "Technikerkapazität im dritten Quartal durch Krankheitsfälle ausgefallen.",
                segment="Handwerksbetriebe NRW"),
]

# Why a gate sends a promise of each category back: the reason the maker reads on top of the page.
REWORK_REASONS = {
    "on-site-service-response": "The response time is not achievable on weekends; restrict it to working days "
                                "or add weekend on-call staff.",
    "delivery-lead-time": "The supplier alone needs 8 working days; confirm stock in the ERP or promise a longer "
                          "lead time.",
    "hotline-24-7": "Night and weekend shifts are not staffed for the whole contract term; attach the staffing "
                    "plan.",
    "data-migration": "The export format of the source system is unknown; run a test migration with a sample "
                      "first.",
    "preventive-maintenance": "The visit interval does not fit the technicians' route planning in the region; "
                              "align the dates with it.",
}

# The demo's distribution over the states: every state, most where the work is.
STATE_PLAN = [
    S.DRAFT, S.DRAFT, S.DRAFT, S.DRAFT,
    S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW, S.IN_REVIEW,
    S.REWORK, S.REWORK, S.REWORK, S.REWORK,
    S.APPROVED, S.APPROVED, S.APPROVED, S.APPROVED,
    S.COMMITTED, S.COMMITTED, S.COMMITTED, S.COMMITTED, S.COMMITTED,
    S.IN_DELIVERY, S.IN_DELIVERY, S.IN_DELIVERY, S.IN_DELIVERY, S.IN_DELIVERY,
    S.FULFILLED, S.FULFILLED, S.FULFILLED, S.FULFILLED,
    S.BROKEN, S.BROKEN, S.BROKEN, S.BROKEN,
    S.CLOSED, S.CLOSED, S.CLOSED, S.CLOSED, S.CLOSED,
    S.REJECTED, S.REJECTED, S.REJECTED,
    S.ON_HOLD, S.ON_HOLD, S.ON_HOLD,
    S.WITHDRAWN, S.WITHDRAWN, S.WITHDRAWN,
]

GATE_DECIDER = {roles.SERVICE: roles.SERVICE, roles.DELIVERY: roles.DELIVERY, roles.LEGAL: roles.LEGAL}


# How long ago a demo promise of each state was recorded (plus 0-9 days, varied per promise): chosen
# so that of the gates still open some are within their time limit and some are overdue.
DAYS_AGO = {
    S.DRAFT: 2, S.IN_REVIEW: 1, S.REWORK: 5, S.APPROVED: 8, S.COMMITTED: 6, S.IN_DELIVERY: 20,
    S.FULFILLED: 13, S.BROKEN: 13, S.CLOSED: 60, S.REJECTED: 15, S.ON_HOLD: 10, S.WITHDRAWN: 15,
}



class Demo:
    """Drives one demo promise to its target state through the services."""

    def __init__(self, users: dict[str, User], clock: DemoClock):
        self.users = users
        self.clock = clock

    def open_review(self, promise: ServicePromise) -> GateReview | None:
        return (GateReview.objects.select_related("owning_team").filter(promise_id=promise.pk, state=ReviewState.OPEN)
                .first())

    def decider(self, review: GateReview) -> User:
        return self.users[GATE_DECIDER[review.owning_team.name]]

    def decide(self, promise: ServicePromise, decision: str, comment: str = "", *, variant: int = 0,
               conditions=()) -> GateReview:
        review = self.open_review(promise)
        # Gates take a few working hours to a couple of days to decide.
        self.clock.advance(hours=3 + 7 * ((variant + review.order) % 5))
        checks = []
        for i, check in enumerate(review.checks.order_by("order", "id")):
            if check.requirement == MUST or decision != "go":
                result = "met" if decision == "go" or i else "not_met"
            else:
                # Should-criteria are where real reviews differ: some met, some missed, some moot.
                result = ("met", "not_met", "na")[(variant + i) % 3]
            checks.append(CheckInput(check_id=check.pk, result=CheckResult(result),
                                     note="Not relevant for this customer." if result == "na" else ""))
        self.clock.call(gs.gate_decide, review_id=review.pk, user=self.decider(review), decision=Decision(decision),
                        comment=comment, checks=checks, conditions=list(conditions))
        return review

    @staticmethod
    def has_pending(promise: ServicePromise, step: str) -> bool:
        return promise.gate_reviews.filter(step=step, state=ReviewState.PENDING).exists()

    def pass_step(self, promise: ServicePromise, step: str, *, variant: int = 0) -> None:
        while (review := self.open_review(promise)) is not None and review.step == step:
            self.decide(promise, "go", f"{review.name}: all must criteria met.", variant=variant)
        promise.refresh_from_db()

    def drive(self, promise: ServicePromise, target: str, spec: PromiseSpec, n: int) -> None:
        owner = promise.owner
        refresh = promise.refresh_from_db
        if target == S.DRAFT:
            return
        if target == S.WITHDRAWN and n % 2:
            self.clock.call(ps.promise_withdraw, promise_id=promise.pk, user=owner,
                            comment="Customer chose a competitor's offer.")
            return
        self.clock.advance(days=1, hours=2)
        # The maker has read the category's lessons learned (if the KVP loop published any yet).
        guidance_ids = list(guidance_current(category_id=promise.category_id).values_list("pk", flat=True))
        self.clock.call(ps.promise_submit, promise_id=promise.pk, user=owner,
                        acknowledged_guidance_ids=guidance_ids,
                        comment="Please check before the offer goes out.")
        if n % 3 == 0 and target not in (S.REWORK, S.REJECTED):
            # A round of rework first: the demo's lead times and rework counts are not all zero.
            self.decide(promise, "recycle", "Target value not backed by the capacity plan; please clarify.")
            self.clock.call(ps.promise_resubmit, promise_id=promise.pk, user=owner,
                            comment="Capacity plan attached, target confirmed with service.")
        if target == S.IN_REVIEW:
            if n % 2 and self.has_pending(promise, A):
                self.decide(promise, "go", "Capacity confirmed.", variant=n)
            return
        if target == S.REWORK:
            self.decide(promise, "recycle", REWORK_REASONS[spec.category])
            return
        if target == S.REJECTED:
            if n % 2 and self.has_pending(promise, A):
                self.decide(promise, "go", "Capacity confirmed.", variant=n)
            self.decide(promise, "kill", "We cannot keep this promise: no capacity in the region and the "
                                         "penalty exceeds the deal value.")
            return
        if target == S.ON_HOLD and n % 2 == 0:
            self.decide(promise, "hold", "Waiting for the customer's site survey before we can decide.")
            return
        if target == S.WITHDRAWN:
            self.clock.call(ps.promise_withdraw, promise_id=promise.pk, user=owner,
                            comment="The customer postponed the project indefinitely.")
            return
        conditions = []
        if n % 4 == 1:
            conditions = [ConditionInput(description="Second technician for the region hired and onboarded",
                                         owner=self.users[roles.SERVICE],
                                         # after the real now: a demo condition lapses only if nobody meets it
                                         due_at=self.clock.real_now + dt.timedelta(days=30 + n))]
        self.decide(promise, "go", "Feasible with the current team.", variant=n, conditions=conditions)
        self.pass_step(promise, A, variant=n)
        if target == S.APPROVED:
            return
        self.clock.advance(days=2)
        self.clock.call(ps.promise_commit, promise_id=promise.pk, user=owner, comment="Signed by the customer.")
        refresh()
        if target == S.COMMITTED:
            if n % 2 and promise.gate_reviews.filter(step=D).exists():
                self.clock.call(ps.promise_handover, promise_id=promise.pk, user=owner)
            return
        self.clock.advance(days=2)
        self.clock.call(ps.promise_handover, promise_id=promise.pk, user=owner, comment="Handover meeting held.")
        refresh()
        if target == S.ON_HOLD:
            if self.open_review(promise) is None:  # a plan without delivery gates: hold at approval instead
                raise ValueError(f"{spec.category}: the demo holds at a delivery gate, the plan has none")
            self.decide(promise, "hold", "Customer site closed for renovation; delivery paused.")
            return
        self.pass_step(promise, D, variant=n)
        if conditions and target != S.IN_DELIVERY:
            condition = GateCondition.objects.filter(review__promise=promise, state="open").first()
            self.clock.call(gs.gate_condition_meet, condition_id=condition.pk, user=self.users[roles.SERVICE],
                            note="Hired in Regensburg, onboarding finished.")
        if target == S.IN_DELIVERY:
            return
        self.clock.advance(days=7)  # the delivery itself
        if target == S.BROKEN:
            self.clock.call(ps.promise_verify, promise_id=promise.pk, user=owner, actual_value=Decimal(spec.missed_value),
                            reason=spec.broken_reason)
        else:
            self.clock.call(ps.promise_verify, promise_id=promise.pk, user=owner, actual_value=Decimal(spec.kept_value),
                            reason="Kept as promised.")
        refresh()
        if target in (S.FULFILLED, S.BROKEN):
            return
        self.pass_step(promise, C, variant=n)
        refresh()
        if promise.state != S.CLOSED:
            self.clock.call(ps.promise_close, promise_id=promise.pk, user=owner, comment="Verified and closed.")


def _spec_for(n: int, target: str) -> PromiseSpec:
    candidates = SPECS
    if target == S.ON_HOLD and n % 2:
        # Holding after commitment needs a delivery gate; the hotline plan has none.
        candidates = [s for s in SPECS if s.category != "hotline-24-7"]
    return candidates[n % len(candidates)]


def seed_promises(*, users: dict[str, User], categories: dict[str, PromiseCategory],
                  customers: dict[str, Customer], clock: DemoClock) -> int:
    demo = Demo(users, clock)
    metrics = {m.name: m for m in Metric.objects.filter(name__in={spec.metric for spec in SPECS})}
    customer_list = list(customers.values())
    created = 0
    for n, target in enumerate(STATE_PLAN, start=1):
        reference = f"DEMO-{n:03d}"
        if ServicePromise.objects.filter(crm_reference=reference).exists():
            continue
        spec = _spec_for(n, target)
        owner = users[spec.department]
        customer = None if spec.segment else customer_list[n % len(customer_list)]
        start = clock.real_now - dt.timedelta(days=DAYS_AGO[target] + 3 * (n % 4), hours=n % 7)
        clock.rewind(start)
        with transaction.atomic():
            promise = clock.call(
                                 ps.promise_create,
                user=owner, title=spec.title if not customer else f"{spec.title} – {customer.name}",
                description=spec.description, category=categories[spec.category], customer=customer,
                customer_segment=spec.segment, origin_department=spec.department, channel=spec.channel,
                metric=metrics[spec.metric], comparison=spec.comparison, target_value=Decimal(spec.target), unit=spec.unit,
                due_date=start.date() + dt.timedelta(days=21 + 7 * (n % 12)), crm_reference=reference,
                deal_value=Decimal(5000 + 2500 * (n % 9)),
            )
            demo.drive(promise, target, spec, n)
            promise.refresh_from_db()
            if promise.state != target:
                raise RuntimeError(f"Demo promise {reference} ended {promise.state}, not {target}.")
        created += 1
    clock.rewind(clock.real_now)
    return created
