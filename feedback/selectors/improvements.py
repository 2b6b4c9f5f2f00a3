"""Reads of the improvement items: the board's list, one item with its trail, the measured effect."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.utils import timezone

from promises.models import PromiseCategory
from promises.outcomes import broken_q, kept_q

from .. import conf
from ..models import ImprovementItem, ImprovementState, ImprovementTarget, ImprovementTransition
from .figures import rate


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
        rate_before = rate(item.kept_before, item.kept_before + item.broken_before)
        rate_after = rate(item.kept_after, item.kept_after + item.broken_after)
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


def _targets() -> Prefetch:
    return Prefetch("targets", queryset=ImprovementTarget.objects.select_related("metric")
                    .prefetch_related("categories").order_by("order", "id"))


def improvement_list(*, states: list[str] | None = None) -> QuerySet[ImprovementItem]:
    qs = ImprovementItem.objects.select_related("owner", "proposed_by", "origin_category").prefetch_related(
        Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")), _targets())
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("-created_at", "-id")


def improvement_detail(*, item_id: int) -> ImprovementItem | None:
    """An item with its categories, feedback, gates and trail: a fixed number of queries."""
    return (ImprovementItem.objects.select_related("owner", "proposed_by")
            .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")),
                              "feedback", "gate_definitions", _targets(),
                              Prefetch("trail", queryset=ImprovementTransition.objects.select_related("actor")
                                       .order_by("at", "id")))
            .filter(pk=item_id).first())
