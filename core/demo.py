"""The demo data set of `manage.py seed_demo`: teams with working calendars, one user per role,
categories with gate plans, German customers and promises in every state.

Reference data (teams, calendars, plans, customers) is configuration and is created with
get_or_create on natural keys. Promises are recorded and moved only through the services, as
users would, so their gate reviews, checks, conditions, trail and outbox events are real. Each demo
promise is keyed by its CRM reference (DEMO-001 …) and is built in one transaction: a second run
finds it and leaves it alone, and a run that fails half-way leaves no half-built promise behind.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import roles
from feedback.demo import seed_kvp
from feedback.selectors import guidance_current
from promises import services as promise_services
from promises.models import Customer, PromiseCategory, PromiseState, ServicePromise
from qualitygates import services as gate_services
from qualitygates.checks import CheckInput
from qualitygates.conditions import ConditionInput
from qualitygates.models import (
    CalendarClosure,
    CheckResult,
    Decision,
    GateCondition,
    GateCriterion,
    GateDefinition,
    GatePlan,
    GateReview,
    GateStep,
    Requirement,
    ReviewState,
    WorkingCalendar,
)

User = get_user_model()
S = PromiseState
A, D, C = GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE
MUST, SHOULD = Requirement.MUST, Requirement.SHOULD

# --- teams and users ----------------------------------------------------------------------------------

# Sales, marketing and management sit in Düsseldorf (NW); service and delivery work out of Munich (BY).
TEAM_HOLIDAY_STATE = {
    roles.SALES: "NW", roles.MARKETING: "NW", roles.PRESALES: "NW", roles.MANAGERS: "NW", roles.LEGAL: "NW",
    roles.SERVICE: "BY", roles.DELIVERY: "BY",
}

# username == team name; the password is "demo-<username>" (README.md, "Demo users").
DEMO_USERS = [
    (roles.SALES, "Sabine", "Schmidt"),
    (roles.MARKETING, "Markus", "Meier"),
    (roles.PRESALES, "Petra", "Pohl"),
    (roles.SERVICE, "Stefan", "Becker"),
    (roles.DELIVERY, "Daniela", "Wagner"),
    (roles.LEGAL, "Lars", "Hoffmann"),
    ("manager", "Monika", "Fischer"),
]
ADMIN_USERNAME = "admin"


def demo_password(username: str) -> str:
    return f"demo-{username}"


VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
# What each kind of team may do in the admin (the services still enforce the product's rules).
MAKER_PERMISSIONS = {
    "promises": {"servicepromise": (VIEW, ADD, CHANGE, DELETE), "customer": (VIEW, ADD, CHANGE),
                 "promisecategory": (VIEW,), "transitionlog": (VIEW,)},
    "qualitygates": {"gatereview": (VIEW,), "gatecheck": (VIEW,), "gatecondition": (VIEW,), "gateplan": (VIEW,),
                     "gatedefinition": (VIEW,), "gatecriterion": (VIEW,), "workingcalendar": (VIEW,)},
    "notifications": {"*": (VIEW,)},
    "feedback": {"*": (VIEW,)},
}
GATEKEEPER_PERMISSIONS = {
    "promises": {"servicepromise": (VIEW,), "customer": (VIEW,), "promisecategory": (VIEW,),
                 "transitionlog": (VIEW,)},
    "qualitygates": {"gatereview": (VIEW,), "gatecheck": (VIEW,), "gatecondition": (VIEW,), "gateplan": (VIEW,),
                     "gatedefinition": (VIEW,), "gatecriterion": (VIEW,), "workingcalendar": (VIEW,),
                     "calendarclosure": (VIEW,)},
    "notifications": {"*": (VIEW,)},
    "feedback": {"*": (VIEW, ADD)},
}
MANAGER_PERMISSIONS = {
    "promises": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "qualitygates": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "notifications": {"*": (VIEW,), "webhooksubscription": (VIEW, ADD)},
    "feedback": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "auth": {"user": (VIEW,), "group": (VIEW, CHANGE)},
}


def _permissions(spec: dict[str, dict[str, tuple[str, ...]]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, models in spec.items():
        for model, actions in models.items():
            for action in actions:
                if model == "*":
                    query |= Q(content_type__app_label=app_label, codename__startswith=f"{action}_")
                else:
                    query |= Q(content_type__app_label=app_label, codename=f"{action}_{model}")
    return list(Permission.objects.filter(query))


def seed_teams(today: dt.date) -> dict[str, Group]:
    teams = {}
    for name in roles.ALL_TEAMS:
        team, _ = Group.objects.get_or_create(name=name)
        calendar, _ = WorkingCalendar.objects.get_or_create(team=team, defaults={
            "time_zone": "Europe/Berlin", "working_days": "0,1,2,3,4", "day_starts": dt.time(8, 0),
            "day_ends": dt.time(17, 0), "holiday_country": "DE", "holiday_subdivision": TEAM_HOLIDAY_STATE[name],
        })
        # Closed between the years, as most German companies are.
        for year in (today.year, today.year + 1):
            for day, label in ((24, "Heiligabend (Betriebsruhe)"), (31, "Silvester (Betriebsruhe)")):
                CalendarClosure.objects.get_or_create(calendar=calendar, date=dt.date(year, 12, day),
                                                      defaults={"name": label})
        spec = (MANAGER_PERMISSIONS if name == roles.MANAGERS
                else MAKER_PERMISSIONS if name in roles.PROMISE_MAKER_TEAMS else GATEKEEPER_PERMISSIONS)
        team.permissions.add(*_permissions(spec))
        teams[name] = team
    return teams


def seed_users(teams: dict[str, Group]) -> dict[str, User]:
    users, created_users = {}, []
    for username, first, last in DEMO_USERS:
        team = teams[roles.MANAGERS if username == "manager" else username]
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@demo.example.com", "is_staff": True,
        })
        if created:
            created_users.append(user)
        user.groups.add(team)
        users[username] = user
    admin, created = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={
        "email": "admin@demo.example.com", "is_staff": True, "is_superuser": True,
    })
    if created:
        created_users.append(admin)
    users[ADMIN_USERNAME] = admin
    # Only on creation: a second run must not reset a password someone changed. The hasher is
    # deliberately slow and releases the GIL, so the eight hashes are computed side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(lambda u: make_password(demo_password(u.username)), created_users))
    for user, hashed in zip(created_users, hashes, strict=True):
        user.password = hashed
        user.save(update_fields=["password"])
    return users


# --- categories and gate plans ------------------------------------------------------------------------

@dataclass(frozen=True)
class Gate:
    name: str
    step: str
    team: str
    hours: int
    criteria: tuple[tuple[str, str], ...]
    description: str = ""


CATEGORIES = [
    ("On-site service response", "on-site-service-response", 3,
     "Technician on site within a promised number of working hours after a fault report.", [
         Gate("Service capacity check", A, roles.SERVICE, 16, (
             (MUST, "Technician coverage in the customer's region confirmed"),
             (MUST, "Response time achievable within the service team's working hours"),
             (SHOULD, "Spare parts for the installed base stocked in the nearest depot"))),
         Gate("Contract and liability review", A, roles.LEGAL, 24, (
             (MUST, "Penalty clauses capped at the deal value"),
             (MUST, "Working-hours definition matches the SLA wording"),
             (SHOULD, "Force-majeure clause included"))),
         Gate("Dispatch readiness", D, roles.DELIVERY, 8, (
             (MUST, "Customer site and contact person recorded in the field-service system"),
             (MUST, "Escalation path agreed with the customer"),
             (SHOULD, "Technicians briefed on the installed base"))),
         Gate("Fulfilment verification", C, roles.SERVICE, 16, (
             (MUST, "Measured value taken from the ticket system"),
             (SHOULD, "Customer informed about the result"))),
     ]),
    ("Delivery lead time", "delivery-lead-time", 5,
     "Goods delivered within a promised number of working days after order.", [
         Gate("Supply chain feasibility", A, roles.DELIVERY, 16, (
             (MUST, "Stock or supplier lead time confirmed in the ERP"),
             (MUST, "Carrier capacity available for the delivery region"),
             (SHOULD, "Alternative supplier identified"))),
         Gate("Terms check", A, roles.LEGAL, 16, (
             (MUST, "Incoterms and delivery date wording agreed"),
             (SHOULD, "Liquidated damages limited"))),
         Gate("Order handover", D, roles.DELIVERY, 8, (
             (MUST, "Order released in the ERP with the promised date"),
             (SHOULD, "Delivery slot booked with the customer"))),
         Gate("Delivery verification", C, roles.SERVICE, 8, (
             (MUST, "Proof of delivery attached"),
             (SHOULD, "Customer satisfaction call made"))),
     ]),
    ("24/7 hotline", "hotline-24-7", 7,
     "A hotline that answers around the clock within a promised time.", [
         Gate("Staffing check", A, roles.SERVICE, 24, (
             (MUST, "Night and weekend shifts staffed for the contract term"),
             (MUST, "Call volume forecast within the team's capacity"),
             (SHOULD, "German and English speaking agents available"))),
         Gate("SLA wording", A, roles.LEGAL, 16, (
             (MUST, "Answer time measured as in the telephony reports"),
             (SHOULD, "Exclusions for public holidays stated"))),
         Gate("Hotline KPIs verified", C, roles.SERVICE, 8, (
             (MUST, "Answer-time report for the period attached"),
             (SHOULD, "Abandoned-call rate reviewed"))),
     ]),
    ("Data migration", "data-migration", 5,
     "Migration of the customer's data into the new system, free of charge and within a set time.", [
         Gate("Technical assessment", A, roles.SERVICE, 24, (
             (MUST, "Source system and data volume analysed"),
             (MUST, "Migration tooling available for the source format"),
             (SHOULD, "Test migration with a sample completed"))),
         Gate("Data protection review", A, roles.LEGAL, 24, (
             (MUST, "Data processing agreement (Art. 28 GDPR) in place"),
             (MUST, "Personal data categories documented"),
             (SHOULD, "Deletion of the source data agreed"))),
         Gate("Migration plan approved", D, roles.DELIVERY, 16, (
             (MUST, "Cut-over window agreed with the customer"),
             (MUST, "Rollback plan documented"))),
         Gate("Cut-over readiness", D, roles.SERVICE, 8, (
             (MUST, "Backups verified"),
             (SHOULD, "Key users trained"))),
         Gate("Migration acceptance", C, roles.DELIVERY, 16, (
             (MUST, "Reconciliation report signed by the customer"),
             (SHOULD, "Lessons learned recorded"))),
     ]),
    ("Preventive maintenance", "preventive-maintenance", 10,
     "Scheduled maintenance visits at a promised interval.", [
         Gate("Service planning", A, roles.SERVICE, 16, (
             (MUST, "Maintenance intervals fit the technicians' route planning"),
             (SHOULD, "Maintenance kits available"))),
         Gate("Maintenance schedule set up", D, roles.DELIVERY, 8, (
             (MUST, "Visits scheduled in the field-service system"),)),
         Gate("Maintenance visits verified", C, roles.SERVICE, 8, (
             (MUST, "Service reports for every visit filed"),)),
     ]),
]


def seed_categories(teams: dict[str, Group]) -> dict[str, PromiseCategory]:
    categories = {}
    for name, slug, notice_days, description, gates in CATEGORIES:
        category, _ = PromiseCategory.objects.get_or_create(slug=slug, defaults={
            "name": name, "description": description, "interim_notice_days": notice_days})
        categories[slug] = category
        if GatePlan.objects.filter(category=category).exists():
            continue  # a manager may have edited it since; the demo never overwrites a plan
        plan = GatePlan.objects.create(category=category, version=1, name=f"{name} gates",
                                       change_note="Initial plan of the demo.")
        for order, gate in enumerate(gates, start=1):
            definition = GateDefinition.objects.create(
                plan=plan, order=order, name=gate.name, step=gate.step, owning_team=teams[gate.team],
                decision_hours=gate.hours, description=gate.description)
            GateCriterion.objects.bulk_create([
                GateCriterion(definition=definition, order=i, text=text, requirement=req, weight=2 if req == MUST else 1)
                for i, (req, text) in enumerate(gate.criteria, start=1)
            ])
    return categories


# --- customers ------------------------------------------------------------------------------------------

CUSTOMERS = [
    ("Brandt Maschinenbau GmbH", "Industrie", "de"),
    ("Stadtwerke Rheinau AG", "Energieversorger", "de"),
    ("Klinikum Isartal gGmbH", "Gesundheitswesen", "de"),
    ("Hoffmann Logistik GmbH & Co. KG", "Logistik", "de"),
    ("Bäckerei Krüger KG", "Handwerk", "de"),
    ("Nordlicht Versicherung AG", "Finanzdienstleistung", "de"),
    ("Autohaus Weber GmbH", "Handel", "de"),
    ("Gemeinde Oberhaching", "Öffentliche Verwaltung", "de"),
    ("Schulte & Partner Steuerberatung", "Dienstleistung", "de"),
    ("Alpina Kunststofftechnik GmbH", "Industrie", "en"),
]


def seed_customers() -> dict[str, Customer]:
    customers = {}
    for i, (name, segment, language) in enumerate(CUSTOMERS, start=1):
        slug = name.split()[0].lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        customers[name], _ = Customer.objects.get_or_create(name=name, defaults={
            "segment": segment, "language": language, "email": f"service@{slug}.example.com",
            "crm_reference": f"CRM-K{1000 + i}"})
    return customers


# --- promises ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromiseSpec:
    """One kind of promise a maker gives: the demo varies customer, owner and state over these."""

    category: str
    title: str
    description: str
    metric: str
    comparison: str
    target: str
    unit: str
    channel: str
    department: str
    kept_value: str
    missed_value: str
    broken_reason: str
    segment: str = ""


SPECS = [
    PromiseSpec("on-site-service-response", "Technician on site within 4 hours",
                "Für die Abfüllanlage sagen wir einen Techniker vor Ort innerhalb von 4 Stunden nach Störungsmeldung zu.",
                "response time", "lte", "4", "h", "contract", "sales", "3.5", "6",
                "Technician stuck on the A9 after an accident; no second technician free in the region."),
    PromiseSpec("on-site-service-response", "Vor-Ort-Service am nächsten Werktag",
                "Reaktionszeit für die Kältetechnik: Techniker am nächsten Werktag vor Ort.",
                "response time", "lte", "9", "working hours", "offer", "presales", "8", "14",
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
                "Kostenlose Übernahme der Kundendaten aus dem Altsystem, abgeschlossen in 20 Arbeitstagen.",
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


class DemoClock:
    """Stands in for django.utils.timezone.now while a demo promise is built, so that its history
    spreads over the past weeks as in real use: gate lead times, due and overdue gates, interim
    notices and the categories' records then have something to show. It never passes `limit`
    (the real now), so nothing is recorded in the future."""

    def __init__(self, start: dt.datetime, limit: dt.datetime):
        self.current, self.limit = start, limit

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current = min(self.current + dt.timedelta(**delta), self.limit)


class Demo:
    """Drives one demo promise to its target state through the services."""

    def __init__(self, users: dict[str, User], real_now: dt.datetime):
        self.users = users
        self.real_now = real_now
        self.clock = DemoClock(real_now, real_now)

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
        gate_services.gate_decide(review_id=review.pk, user=self.decider(review), decision=Decision(decision),
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
            promise_services.promise_withdraw(promise_id=promise.pk, user=owner,
                                              comment="Customer chose a competitor's offer.")
            return
        self.clock.advance(days=1, hours=2)
        # The maker has read the category's lessons learned (if the KVP loop published any yet).
        guidance_ids = list(guidance_current(category_id=promise.category_id).values_list("pk", flat=True))
        promise_services.promise_submit(promise_id=promise.pk, user=owner, acknowledged_guidance_ids=guidance_ids,
                                        comment="Please check before the offer goes out.")
        if n % 3 == 0 and target not in (S.REWORK, S.REJECTED):
            # A round of rework first: the demo's lead times and rework counts are not all zero.
            self.decide(promise, "recycle", "Target value not backed by the capacity plan; please clarify.")
            promise_services.promise_resubmit(promise_id=promise.pk, user=owner,
                                              comment="Capacity plan attached, target confirmed with service.")
        if target == S.IN_REVIEW:
            if n % 2 and self.has_pending(promise, A):
                self.decide(promise, "go", "Capacity confirmed.", variant=n)
            return
        if target == S.REWORK:
            self.decide(promise, "recycle", "The response time is not achievable on weekends; restrict it to "
                                            "working days or add weekend on-call staff.")
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
            promise_services.promise_withdraw(promise_id=promise.pk, user=owner,
                                              comment="The customer postponed the project indefinitely.")
            return
        conditions = []
        if n % 4 == 1:
            conditions = [ConditionInput(description="Second technician for the region hired and onboarded",
                                         owner=self.users[roles.SERVICE],
                                         # after the real now: a demo condition lapses only if nobody meets it
                                         due_at=self.real_now + dt.timedelta(days=30 + n))]
        self.decide(promise, "go", "Feasible with the current team.", variant=n, conditions=conditions)
        self.pass_step(promise, A, variant=n)
        if target == S.APPROVED:
            return
        self.clock.advance(days=2)
        promise_services.promise_commit(promise_id=promise.pk, user=owner, comment="Signed by the customer.")
        refresh()
        if target == S.COMMITTED:
            if n % 2 and promise.gate_reviews.filter(step=D).exists():
                promise_services.promise_handover(promise_id=promise.pk, user=owner)
            return
        self.clock.advance(days=2)
        promise_services.promise_handover(promise_id=promise.pk, user=owner, comment="Handover meeting held.")
        refresh()
        if target == S.ON_HOLD:
            if self.open_review(promise) is None:  # a plan without delivery gates: hold at approval instead
                raise ValueError(f"{spec.category}: the demo holds at a delivery gate, the plan has none")
            self.decide(promise, "hold", "Customer site closed for renovation; delivery paused.")
            return
        self.pass_step(promise, D, variant=n)
        if conditions and target != S.IN_DELIVERY:
            condition = GateCondition.objects.filter(review__promise=promise, state="open").first()
            gate_services.gate_condition_meet(condition_id=condition.pk, user=self.users[roles.SERVICE],
                                              note="Hired in Regensburg, onboarding finished.")
        if target == S.IN_DELIVERY:
            return
        self.clock.advance(days=7)  # the delivery itself
        if target == S.BROKEN:
            promise_services.promise_verify(promise_id=promise.pk, user=owner, actual_value=Decimal(spec.missed_value),
                                            reason=spec.broken_reason)
        else:
            promise_services.promise_verify(promise_id=promise.pk, user=owner, actual_value=Decimal(spec.kept_value),
                                            reason="Kept as promised.")
        refresh()
        if target in (S.FULFILLED, S.BROKEN):
            return
        self.pass_step(promise, C, variant=n)
        refresh()
        if promise.state != S.CLOSED:
            promise_services.promise_close(promise_id=promise.pk, user=owner, comment="Verified and closed.")


def _spec_for(n: int, target: str) -> PromiseSpec:
    candidates = SPECS
    if target == S.ON_HOLD and n % 2:
        # Holding after commitment needs a delivery gate; the hotline plan has none.
        candidates = [s for s in SPECS if s.category != "hotline-24-7"]
    return candidates[n % len(candidates)]


def seed_promises(users: dict[str, User], categories: dict[str, PromiseCategory],
                  customers: dict[str, Customer]) -> int:
    real_now = timezone.now()
    demo = Demo(users, real_now)
    customer_list = list(customers.values())
    created = 0
    for n, target in enumerate(STATE_PLAN, start=1):
        reference = f"DEMO-{n:03d}"
        if ServicePromise.objects.filter(crm_reference=reference).exists():
            continue
        spec = _spec_for(n, target)
        owner = users[spec.department]
        customer = None if spec.segment else customer_list[n % len(customer_list)]
        start = real_now - dt.timedelta(days=DAYS_AGO[target] + 3 * (n % 4), hours=n % 7)
        demo.clock = DemoClock(start, limit=real_now)
        with transaction.atomic(), mock.patch.object(timezone, "now", demo.clock):
            promise = promise_services.promise_create(
                user=owner, title=spec.title if not customer else f"{spec.title} – {customer.name}",
                description=spec.description, category=categories[spec.category], customer=customer,
                customer_segment=spec.segment, origin_department=spec.department, channel=spec.channel,
                metric=spec.metric, comparison=spec.comparison, target_value=Decimal(spec.target), unit=spec.unit,
                due_date=start.date() + dt.timedelta(days=21 + 7 * (n % 12)), crm_reference=reference,
                deal_value=Decimal(5000 + 2500 * (n % 9)),
            )
            demo.drive(promise, target, spec, n)
            promise.refresh_from_db()
            if promise.state != target:
                raise RuntimeError(f"Demo promise {reference} ended {promise.state}, not {target}.")
        created += 1
    return created


def seed_demo() -> dict[str, int]:
    """Load the demo. Safe to run any number of times: what exists is left as it is."""
    today = timezone.localdate()
    with transaction.atomic():
        teams = seed_teams(today)
        users = seed_users(teams)
        categories = seed_categories(teams)
        customers = seed_customers()
    created = seed_promises(users, categories, customers)
    seed_kvp(users=users, categories=categories)  # feedback, improvements, guidance (feedback/demo.py)
    states = Counter(ServicePromise.objects.filter(crm_reference__startswith="DEMO-").values_list("state", flat=True))
    return {"promises_created": created, **{f"state_{k}": v for k, v in sorted(states.items())}}
