"""Reads of the KVP loop. Every figure is counted in the database with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from statistics import median

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from promises.models import PromiseCategory, PromiseState, ServicePromise
from promises.outcomes import broken_q, kept_q
from qualitygates.models import GateDefinition, GateReview, GateStep, ReviewState

from . import conf
from .models import OPEN_IMPROVEMENT_STATES, Feedback, Guidance, ImprovementItem, ImprovementState


class Median(Aggregate):
    """PostgreSQL's continuous median; works on intervals as well as numbers."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001")) if whole else None


def guidance_current(*, category_id: int) -> QuerySet[Guidance]:
    return (Guidance.objects.filter(category_id=category_id, retired_at__isnull=True)
            .select_related("improvement").order_by("published_at", "id"))


STEP_RANK = Case(*[When(step=s, then=Value(i)) for i, s in enumerate(
    [GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE])], output_field=IntegerField())


def _lead_times(category_id: int, since: dt.datetime) -> list[dict]:
    """Median opened → decided time of the passed gates of the category, per gate (by step and name)."""
    reviews = GateReview.objects.filter(promise__category_id=category_id, state=ReviewState.PASSED,
                                        opened_at__isnull=False, decided_at__gte=since)
    duration = ExpressionWrapper(F("decided_at") - F("opened_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        rows = (reviews.values("step", "name")
                .annotate(rank=STEP_RANK, order=Min("order"), passed=Count("pk"),
                          median=Median(duration, output_field=DurationField()))
                .order_by("rank", "order", "name"))
        return [{"step": r["step"], "gate": r["name"], "passed": r["passed"], "median": r["median"]} for r in rows]
    # Fallback for databases without an ordered-set aggregate (SQLite): one ordered query, the middle
    # value picked per gate.
    rows = (reviews.annotate(rank=STEP_RANK, duration=duration)
            .order_by("rank", "order", "name").values_list("step", "name", "duration"))
    grouped: dict[tuple[str, str], list[dt.timedelta]] = {}
    for step, name, value in rows:
        grouped.setdefault((step, name), []).append(value)
    return [{"step": step, "gate": name, "passed": len(values), "median": median(values)}
            for (step, name), values in grouped.items()]


def category_record(*, category_id: int, window_days: int | None = None, now: dt.datetime | None = None,
                    top_reasons: int = 3) -> dict:
    """What a promise maker sees when promising in this category: its current guidance and its live
    record over the window — promises made, kept, broken, keep rate, median gate lead time per gate,
    and the top reasons for breaking. Five queries whatever the data."""
    now = now or timezone.now()
    days = window_days or conf.get("KVP_RECORD_WINDOW_DAYS")
    since = now - dt.timedelta(days=days)
    category = PromiseCategory.objects.filter(pk=category_id).first()
    if category is None:
        return {}
    in_window = Q(verified_at__gte=since, verified_at__lte=now)
    figures = ServicePromise.objects.filter(category_id=category_id).aggregate(
        made=Count("pk", filter=Q(created_at__gte=since, created_at__lte=now) & ~Q(state=PromiseState.DRAFT)),
        kept=Count("pk", filter=kept_q() & in_window),
        broken=Count("pk", filter=broken_q() & in_window),
    )
    reasons = (ServicePromise.objects.filter(broken_q() & in_window, category_id=category_id)
               .exclude(outcome_reason="").values("outcome_reason").annotate(n=Count("pk"))
               .order_by("-n", "outcome_reason")[:top_reasons])
    verified = figures["kept"] + figures["broken"]
    return {
        "category": category,
        "window_days": days,
        "since": since,
        "guidance": list(guidance_current(category_id=category_id)),
        "made": figures["made"],
        "kept": figures["kept"],
        "broken": figures["broken"],
        "keep_rate": _rate(figures["kept"], verified),
        "lead_times": _lead_times(category_id, since),
        "top_reasons": [{"reason": r["outcome_reason"], "count": r["n"]} for r in reasons],
    }


def improvement_effects(*, window_days: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """For every standardized item: the keep rate of its categories in equal windows before and after
    standardization, with the counts it rests on. Two queries whatever the number of items."""
    now = now or timezone.now()
    window = dt.timedelta(days=window_days or conf.get("KVP_EFFECT_WINDOW_DAYS"))
    p = "categories__promises__"
    at = F("standardized_at")
    before = Q(**{f"{p}verified_at__gte": ExpressionWrapper(at - window, output_field=DateTimeField()),
                  f"{p}verified_at__lt": at})
    after = Q(**{f"{p}verified_at__gte": at,
                 f"{p}verified_at__lt": ExpressionWrapper(at + window, output_field=DateTimeField())})
    items = (ImprovementItem.objects.filter(state=ImprovementState.STANDARDIZED)
             .annotate(kept_before=Count(f"{p}pk", filter=kept_q(p) & before, distinct=True),
                       broken_before=Count(f"{p}pk", filter=broken_q(p) & before, distinct=True),
                       kept_after=Count(f"{p}pk", filter=kept_q(p) & after, distinct=True),
                       broken_after=Count(f"{p}pk", filter=broken_q(p) & after, distinct=True))
             .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")))
             .order_by("-standardized_at", "-id"))
    result = []
    for item in items:
        rate_before = _rate(item.kept_before, item.kept_before + item.broken_before)
        rate_after = _rate(item.kept_after, item.kept_after + item.broken_after)
        result.append({
            "item": item,
            "categories": [c.name for c in item.categories.all()],
            "standardized_at": item.standardized_at,
            "window_days": window.days,
            "after_window_complete": item.standardized_at + window <= now,
            "before": {"kept": item.kept_before, "broken": item.broken_before, "keep_rate": rate_before},
            "after": {"kept": item.kept_after, "broken": item.broken_after, "keep_rate": rate_after},
            "change": (rate_after - rate_before) if rate_before is not None and rate_after is not None else None,
        })
    return result


def gate_escapes(*, definition_ids: list[int] | None = None, top_reasons: int = 3) -> list[dict]:
    """Per gate definition (approval and delivery gates; a closure gate is decided after the outcome is
    known): promises that passed it, how many of them are verified, how many broke, the escape
    rate (broke / verified), the top reasons, and whether it is flagged. Two queries."""
    threshold = Decimal(str(conf.get("KVP_GATE_ESCAPE_THRESHOLD")))
    min_verified = conf.get("KVP_GATE_ESCAPE_MIN_PASSED")
    passed = Q(reviews__state=ReviewState.PASSED)
    qs = GateDefinition.objects.exclude(step=GateStep.CLOSURE)
    if definition_ids is not None:
        qs = qs.filter(pk__in=definition_ids)
    rows = list(qs.annotate(
        passed=Count("reviews__promise", filter=passed, distinct=True),
        verified=Count("reviews__promise", filter=passed & Q(reviews__promise__actual_value__isnull=False,
                                                             reviews__promise__verified_at__isnull=False),
                       distinct=True),
        escaped=Count("reviews__promise", filter=passed & broken_q("reviews__promise__"), distinct=True),
    ).filter(passed__gt=0).select_related("plan__category").order_by("plan__category__name", "plan__version",
                                                                      "order", "id"))
    reasons: dict[int, list[dict]] = {}
    for r in (GateReview.objects.filter(broken_q("promise__"), state=ReviewState.PASSED,
                                        definition_id__in=[d.pk for d in rows])
              .exclude(promise__outcome_reason="")
              .values("definition_id", "promise__outcome_reason")
              .annotate(n=Count("promise", distinct=True))
              .order_by("definition_id", "-n", "promise__outcome_reason")):
        bucket = reasons.setdefault(r["definition_id"], [])
        if len(bucket) < top_reasons:
            bucket.append({"reason": r["promise__outcome_reason"], "count": r["n"]})
    result = []
    for d in rows:
        rate = _rate(d.escaped, d.verified)
        result.append({
            "definition_id": d.pk, "definition": d, "gate": d.name, "category": d.plan.category.name,
            "plan_version": d.plan.version, "passed": d.passed, "verified": d.verified, "escaped": d.escaped,
            "escape_rate": rate, "top_reasons": reasons.get(d.pk, []),
            "flagged": rate is not None and d.verified >= min_verified and rate > threshold,
        })
    return result


def category_keep_rates(*, window_days: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Keep rate per category over the window: one query."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=window_days or conf.get("KVP_RECORD_WINDOW_DAYS"))
    in_window = Q(promises__verified_at__gte=since, promises__verified_at__lte=now)
    rows = PromiseCategory.objects.annotate(
        kept=Count("promises", filter=kept_q("promises__") & in_window),
        broken=Count("promises", filter=broken_q("promises__") & in_window),
    ).order_by("name")
    return [{"category": c, "kept": c.kept, "broken": c.broken, "keep_rate": _rate(c.kept, c.kept + c.broken)}
            for c in rows]


def improvement_list(*, states: list[str] | None = None) -> QuerySet[ImprovementItem]:
    qs = ImprovementItem.objects.select_related("owner", "proposed_by", "origin_category").prefetch_related(
        Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")))
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("-created_at", "-id")


def feedback_list(*, category_id: int | None = None, kind: str | None = None) -> QuerySet[Feedback]:
    qs = Feedback.objects.select_related("promise", "category", "customer", "recorded_by")
    if category_id:
        qs = qs.filter(category_id=category_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def kvp_dashboard(*, now: dt.datetime | None = None) -> dict:
    """The manager's KVP board: keep rate per category, gate escapes (flagged first), open
    improvements, the measured effect of standardized ones. A fixed number of queries."""
    escapes = gate_escapes()
    return {
        "keep_rates": category_keep_rates(now=now),
        "gate_escapes": sorted(escapes, key=lambda r: (not r["flagged"], -(r["escape_rate"] or 0))),
        "open_improvements": list(improvement_list(states=OPEN_IMPROVEMENT_STATES)),
        "effects": improvement_effects(now=now),
        "escape_threshold": conf.get("KVP_GATE_ESCAPE_THRESHOLD"),
    }


def customer_rating_state(*, promise) -> dict:
    """For the status page: whether the customer may still rate this promise, and their rating if given."""
    from .services import RATEABLE_STATES

    given = (Feedback.objects.filter(promise_id=promise.pk, source="customer")
             .values("csat_score", "kept_as_seen").first())
    verified = promise.state in RATEABLE_STATES and promise.verified_at is not None
    return {"can_rate": verified and given is None, "given": given}


def improvement_detail(*, item_id: int) -> ImprovementItem | None:
    """An item with its categories, feedback, gates and trail: a fixed number of queries."""
    from .models import ImprovementTransition

    return (ImprovementItem.objects.select_related("owner", "proposed_by")
            .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")),
                              "feedback", "gate_definitions",
                              Prefetch("trail", queryset=ImprovementTransition.objects.select_related("actor")
                                       .order_by("at", "id")))
            .filter(pk=item_id).first())
