"""What presales sees when promising in a category: its current guidance and its live record."""

from __future__ import annotations

import datetime as dt
from statistics import median

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from promises.models import PromiseCategory, PromiseState, ServicePromise
from promises.outcomes import broken_q, kept_q
from qualitygates.models import GateReview, GateStep, ReviewState

from .. import conf
from ..models import Guidance
from .figures import rate


class Median(Aggregate):
    """PostgreSQL's continuous median; works on intervals as well as numbers."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def guidance_current(*, category_id: int) -> QuerySet[Guidance]:
    return (Guidance.objects.filter(category_id=category_id, retired_at__isnull=True)
            .select_related("improvement").order_by("published_at", "id"))


def guidance_list() -> QuerySet[Guidance]:
    return Guidance.objects.select_related("category").order_by("category", "published_at", "id")


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
        "keep_rate": rate(figures["kept"], verified),
        "lead_times": _lead_times(category_id, since),
        "top_reasons": [{"reason": r["outcome_reason"], "count": r["n"]} for r in reasons],
    }
