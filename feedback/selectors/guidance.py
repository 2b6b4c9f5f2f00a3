"""What presales sees when promising in a category: its current guidance and its live record."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Aggregate, QuerySet
from django.utils import timezone

from promises.models import PromiseCategory
from qualitygates.models import GateStep

from .. import conf
from ..models import Guidance
from .figures import rate
from .summaries import Window, broken_reasons, histogram_quantile, lead_time_histograms, window_counts


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


STEP_RANK = {step: i for i, step in enumerate([GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE])}


def _lead_times(category_id: int, since: dt.datetime) -> list[dict]:
    """Median opened → decided time of the category's passed gates per gate (by step and name), from the
    monthly lead-time histograms: the gates decided from the first day of the UTC month `since` falls in
    (whole months; the histogram's median is within 2 % of the exact one, exact where values repeat)."""
    histograms = lead_time_histograms(group_by=("step", "name", "order"), category_id=category_id,
                                      since_month=since.astimezone(dt.UTC).date().replace(day=1))
    gates: dict[tuple[str, str], dict] = {}
    for (step, name, order), buckets in histograms.items():
        gate = gates.setdefault((step, name), {"order": order, "buckets": Counter(), "totals": Counter()})
        gate["order"] = min(gate["order"], order)
        for bucket, count, total in buckets:
            gate["buckets"][bucket] += count
            gate["totals"][bucket] += total
    rows = []
    for (step, name), gate in sorted(gates.items(), key=lambda kv: (STEP_RANK.get(kv[0][0], 9), kv[1]["order"],
                                                                      kv[0][1])):
        buckets = [(b, n, gate["totals"][b]) for b, n in gate["buckets"].items()]
        rows.append({"step": step, "gate": name, "passed": sum(gate["buckets"].values()),
                     "median": histogram_quantile(buckets, 0.5)})
    return rows


def category_record(*, category_id: int, window_days: int | None = None, now: dt.datetime | None = None,
                    top_reasons: int = 3) -> dict:
    """What a promise maker sees when promising in this category: its current guidance and its live
    record over the window — promises made, kept, broken, keep rate, median gate lead time per gate,
    and the top reasons for breaking. A fixed number of queries, read from the summary rows
    (feedback/selectors/summaries.py): none grows with the number of promises."""
    now = now or timezone.now()
    days = window_days or conf.get("KVP_RECORD_WINDOW_DAYS")
    since = now - dt.timedelta(days=days)
    category = PromiseCategory.objects.filter(pk=category_id).first()
    if category is None:
        return {}
    window = Window(key=category_id, category_id=category_id, start=since, end=now, inclusive=True)
    figures = window_counts([window])[category_id]
    reasons = sorted(broken_reasons(window).items(), key=lambda r: (-r[1], r[0]))[:top_reasons]
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
        "top_reasons": [{"reason": reason, "count": n} for reason, n in reasons],
    }
