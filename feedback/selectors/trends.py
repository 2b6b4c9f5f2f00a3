"""Trends for the managers' board, from the summary rows (plain lists of dicts, oldest month first):
keep rate by month and category, gate lead time (median and p90) by gate and team, feedback by month,
channel and kind with CSAT and NPS. Each reads a bounded number of summary rows in one or two queries,
however many promises and feedback rows there are. Months are UTC calendar months; the current one
counts up to now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from promises.models import PromiseDay

from ..models import FeedbackMonth
from .figures import rate
from .summaries import histogram_quantile, lead_time_histograms


def first_month(*, months: int, now: dt.datetime | None = None) -> dt.date:
    """The first day of the month `months - 1` months before the current UTC month."""
    current = (now or timezone.now()).astimezone(dt.UTC).date().replace(day=1)
    index = current.year * 12 + current.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def keep_rate_by_month(*, months: int = 12, category_ids: list[int] | None = None,
                       now: dt.datetime | None = None) -> list[dict]:
    """Per month and category: promises verified kept and broken, and the keep rate. One query."""
    since = first_month(months=months, now=now)
    rows = PromiseDay.objects.filter(day__gte=since)
    if category_ids is not None:
        rows = rows.filter(category_id__in=category_ids)
    rows = (rows.annotate(month=TruncMonth("day")).values("month", "category_id", "category__name")
            .annotate(kept=Sum("kept"), broken=Sum("broken")).order_by("month", "category__name"))
    return [{"month": r["month"], "category_id": r["category_id"], "category": r["category__name"],
             "kept": r["kept"], "broken": r["broken"], "keep_rate": rate(r["kept"], r["kept"] + r["broken"])}
            for r in rows if r["kept"] or r["broken"]]


def lead_time_by_gate_and_team(*, months: int = 12, now: dt.datetime | None = None) -> list[dict]:
    """Per gate (by name) and owning team over the last `months` months: passed gates, median and p90
    lead time (opened → decided; from the histograms, within 2 %). Two queries."""
    histograms = lead_time_histograms(group_by=("name", "team_id"), since_month=first_month(months=months, now=now))
    teams = dict(Group.objects.filter(pk__in={team for _, team in histograms}).values_list("pk", "name"))
    return [{"gate": name, "team_id": team, "team": teams.get(team, ""),
             "passed": sum(count for _, count, _ in buckets),
             "median": histogram_quantile(buckets, 0.5), "p90": histogram_quantile(buckets, 0.9)}
            for (name, team), buckets in sorted(histograms.items(), key=lambda kv: (kv[0][0], teams.get(kv[0][1], "")))]


def feedback_by_month(*, months: int = 12, now: dt.datetime | None = None) -> list[dict]:
    """Per month, channel and kind: feedback received, the CSAT average (1–5) over the scores given and
    the NPS (−100…100: promoters 9–10 minus detractors 0–6, per score given). One query."""
    rows = (FeedbackMonth.objects.filter(month__gte=first_month(months=months, now=now))
            .values("month", "channel", "kind")
            .annotate(n=Sum("count"), csat_count=Sum("csat_count"), csat_sum=Sum("csat_sum"),
                      nps_count=Sum("nps_count"), promoters=Sum("promoters"), detractors=Sum("detractors"))
            .order_by("month", "channel", "kind"))
    result = []
    for r in rows:
        csat = (Decimal(r["csat_sum"]) / r["csat_count"]).quantize(Decimal("0.01")) if r["csat_count"] else None
        nps = (Decimal(100 * (r["promoters"] - r["detractors"])) / r["nps_count"]).quantize(Decimal("0.1")) \
            if r["nps_count"] else None
        result.append({"month": r["month"], "channel": r["channel"], "kind": r["kind"], "count": r["n"],
                       "csat_count": r["csat_count"], "csat_average": csat, "nps_count": r["nps_count"], "nps": nps})
    return result
