"""The organisation the promise journey runs in, built through the services as the demo builds its
own: the demo's teams (Berlin working calendars), users (`sales` / `demo-sales` …), categories with
their gate plans and metrics; then, on a clock set weeks back, a record for the journey's category
(kept and broken promises with their gate decisions, so the new-promise form has guidance, a record,
lead times and evidence to show), other teams' work in the gate queue, and an improvement waiting on
the KVP board. Texts a user reads are in the run's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core import roles
from demo.catalogue import seed_categories
from demo.clock import DemoClock
from demo.people import seed_teams, seed_users
from feedback.models import ImprovementItem
from feedback.services.guidance import guidance_publish
from feedback.services.improvements import improvement_propose
from notifications.user_settings import notification_profile_set_language
from promises import services as ps
from promises.models import Customer, Metric, PromiseCategory, ServicePromise
from qualitygates import services as gs
from qualitygates.models import Decision, GateReview, ReviewState
from tests.factories import all_checks_met

CATEGORY = "on-site-service-response"  # service → legal → delivery → closure (demo/catalogue.py)
METRIC = "response time"
GATEKEEPER = {roles.SERVICE: "service", roles.LEGAL: "legal", roles.DELIVERY: "delivery"}
# The record: what was delivered on "response time" (hours) in the category; at most 4 h was promised.
KEPT_VALUES = ("2.5", "3", "3.5", "3.5", "4")
BROKEN_VALUE = "6"
TEXTS = {
    "en": {
        "guidance": "Confirm a technician in the customer's region before promising under 4 hours.",
        "broken": "Technician stuck on the A9 after an accident.",
        "history": "Technician on site within 4 hours",
        "others": {"hotline-24-7": "Hotline answered within 60 seconds",
                   "data-migration": "Data migrated in 20 working days"},
        "improvement": "Second technician on call at weekends",
        "customer": "Sonnenhof Brewery Ltd",
    },
    "de": {
        "guidance": "Vor einer Zusage unter 4 Stunden einen Techniker in der Region des Kunden bestätigen.",
        "broken": "Techniker nach einem Unfall auf der A9 im Stau.",
        "history": "Techniker innerhalb von 4 Stunden vor Ort",
        "others": {"hotline-24-7": "Hotline nimmt binnen 60 Sekunden an",
                   "data-migration": "Datenmigration in 20 Arbeitstagen"},
        "improvement": "Zweiter Techniker in Rufbereitschaft am Wochenende",
        "customer": "Brauerei Sonnenhof GmbH",
    },
}


@dataclass(frozen=True)
class Organisation:
    lang: str
    users: dict
    category: PromiseCategory
    metric: Metric
    customer: Customer
    guidance_text: str
    improvement: ImprovementItem
    history_kept: int
    history_broken: int


def _decider(users: dict, review: GateReview):
    return users[GATEKEEPER[review.owning_team.name]]


def _pass_open_gates(promise: ServicePromise, users: dict, clock: DemoClock) -> None:
    """Decide every gate that opens, one after the other, with every criterion met and a go."""
    while (review := GateReview.objects.select_related("owning_team")
           .filter(promise_id=promise.pk, state=ReviewState.OPEN).first()) is not None:
        clock.advance(hours=5)
        clock.call(gs.gate_decide, review_id=review.pk, user=_decider(users, review), decision=Decision.GO,
                   checks=all_checks_met(review), comment="")


def _verified_promise(*, users, category, metric, customer, title, value: str, reason: str, clock: DemoClock):
    """One promise of the record, from draft to closed, on the clock."""
    maker = users[roles.SALES]
    promise = clock.call(ps.promise_create, user=maker, title=title, category=category, customer=customer,
                         origin_department="sales", channel="contract", metric=metric, comparison="lte",
                         target_value=Decimal("4"), due_date=clock.today + dt.timedelta(days=30))
    clock.advance(hours=2)
    clock.call(ps.promise_submit, promise_id=promise.pk, user=maker)
    _pass_open_gates(promise, users, clock)  # service, then legal
    clock.advance(days=1)
    clock.call(ps.promise_commit, promise_id=promise.pk, user=maker)
    clock.call(ps.promise_handover, promise_id=promise.pk, user=maker)
    _pass_open_gates(promise, users, clock)  # delivery
    clock.advance(days=3)
    clock.call(ps.promise_verify, promise_id=promise.pk, user=maker, actual_value=Decimal(value), reason=reason)
    _pass_open_gates(promise, users, clock)  # closure
    promise.refresh_from_db()
    if promise.state != "closed":
        clock.call(ps.promise_close, promise_id=promise.pk, user=maker)


def build_organisation(*, lang: str, maker_language: str) -> Organisation:
    """Everything the journey needs. Staff read the pages in `lang`; the maker starts in
    `maker_language` (and switches in the header)."""
    texts = TEXTS[lang]
    now = timezone.now()
    clock = DemoClock(now)
    clock.rewind(now - dt.timedelta(days=90))
    teams = seed_teams(today=clock.today)
    users = seed_users(teams=teams)
    for name in ("service", "legal", "delivery", "manager"):
        notification_profile_set_language(user=users[name], language=lang)
    notification_profile_set_language(user=users[roles.SALES], language=maker_language)
    categories = seed_categories(teams=teams, manager=users["manager"], clock=clock)
    category = categories[CATEGORY]
    metric = Metric.objects.get(name=METRIC)
    maker = users[roles.SALES]
    regular = clock.call(ps.customer_create, user=maker, name="Stadtwerke Rheinau AG", language=lang,
                         email="service@rheinau.example.com")
    # Weeks back: the category's record, its lead times and the evidence for its metric.
    clock.rewind(now - dt.timedelta(days=100))
    for i, value in enumerate(KEPT_VALUES, start=1):
        _verified_promise(users=users, category=category, metric=metric, customer=regular,
                          title=f"{texts['history']} ({i})", value=value, reason="", clock=clock)
        clock.advance(days=2)
    _verified_promise(users=users, category=category, metric=metric, customer=regular,
                      title=f"{texts['history']} ({len(KEPT_VALUES) + 1})", value=BROKEN_VALUE,
                      reason=texts["broken"], clock=clock)
    clock.rewind(now)
    guidance_publish(user=users["manager"], category_ids=[category.pk], text=texts["guidance"])
    # Other work in the service team's queue, opened just before the journey's promise: their first
    # gates allow 24 working hours, the journey's 16, so the journey's is due soonest all the same.
    for slug, metric_name, target in (("hotline-24-7", "answer time (90th percentile)", "60"),
                                      ("data-migration", "migration time", "20")):
        other = ps.promise_create(user=maker, title=texts["others"][slug], category=categories[slug], customer=regular,
                                  origin_department="sales", channel="contract", metric=Metric.objects.get(name=metric_name),
                                  comparison="lte", target_value=Decimal(target),
                                  due_date=timezone.localdate() + dt.timedelta(days=60))
        ps.promise_submit(promise_id=other.pk, user=maker)
    customer = ps.customer_create(user=maker, name=texts["customer"], language=lang,
                                  email="einkauf@sonnenhof.example.com")
    improvement = improvement_propose(user=users["service"], title=texts["improvement"], category_ids=[category.pk])
    return Organisation(lang=lang, users=users, category=category, metric=metric, customer=customer,
                        guidance_text=texts["guidance"], improvement=improvement,
                        history_kept=len(KEPT_VALUES), history_broken=1)
