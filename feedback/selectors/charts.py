"""The manager dashboard's series over a date range (and optionally one category), returned as plain
lists of dicts, each a fixed number of queries whatever the data size.

The counts come from the summary rows kept in the same transaction as the changes (promises'
PromiseDay, the feedback's FeedbackMonth, the gates' GateLeadTimeMonth histograms): whole UTC days or
months from those, the edges of the range — a local midnight is not a UTC one, and a range may be cut
inside a month — from the raw rows by index (chart_summaries.py). So the figures equal counting the
raw rows for any range of local days, are current (no `as_of`), and cost what the range's length
costs, not what the history's size does. Lead-time percentiles are read from 2 % histogram buckets.

The figures are aggregates that show no single record: they count every promise, whoever looks
(README, "Who sees what"). The one list of records here, the overdue gates, is filtered by the
reader's scope.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from promises.selectors import gate_review_visible_q
from qualitygates.models import GateReview, ReviewState

from .chart_summaries import Piece, feedback_sums, lead_time_histograms, outcomes
from .figures import rate
from .summaries import histogram_quantile


@dataclass(frozen=True)
class Period:
    """A closed range of days, [first, last], in the current time zone."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the midnight after the last day."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min,
                                   tzinfo=timezone.get_current_timezone())

    def months(self) -> list[dt.date]:
        """The first day of every month the period touches, oldest first."""
        month, result = self.first.replace(day=1), []
        while month <= self.last:
            result.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return result


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _month_pieces(period: Period) -> list[Piece]:
    """The period cut at local month boundaries: (first of the month, start, end)."""
    pieces = []
    for month in period.months():
        following = (month + dt.timedelta(days=32)).replace(day=1)
        pieces.append((month, max(period.start, _local_midnight(month)), min(period.end, _local_midnight(following))))
    return pieces


def keep_rate_by_month(*, period: Period, category_id: int | None = None) -> list[dict]:
    """Verified promises per (local) month of verification and category: the day summaries of the whole
    UTC days, the raw rows of the edges (chart_summaries). Two queries.

    Keys: `month` (date, first of the month), `category_id`, `category` (name), `kept`, `broken`,
    `keep_rate` (Decimal 0..1, None without verified promises). Months or categories without a verified
    promise are absent."""
    counts = outcomes(_month_pieces(period), category_id=category_id)
    rows = [{"month": month, "category_id": cid, "category": name, "kept": c["kept"], "broken": c["broken"],
             "keep_rate": rate(c["kept"], c["kept"] + c["broken"])}
            for month, by_category in counts.items() for (cid, name), c in by_category.items()
            if c["kept"] or c["broken"]]
    return sorted(rows, key=lambda r: (r["month"], r["category"], r["category_id"]))


def _hours(value) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return round(seconds / 3600, 2)


def gate_lead_times(*, period: Period, category_id: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Where promises wait: per gate (its name and lifecycle step) and owning team, the median and the
    90th percentile of the time from opening to passing (calendar hours) of the gates passed in the
    period, from the lead-time histograms (within 2 %; chart_summaries), and how many of them wait open
    right now. Three queries.

    Keys: `gate`, `step`, `team_id`, `team`, `decided` (passed in the period), `median_hours`,
    `p90_hours` (floats, None when nothing passed), `open_now`, `overdue_now`. Sorted by the 90th
    percentile, longest first: the bottlenecks on top."""
    now = now or timezone.now()
    rows: dict[tuple, dict] = {}

    def row(name, step, team_id, team) -> dict:
        return rows.setdefault((name, step, team_id, team), {
            "gate": name, "step": step, "team_id": team_id, "team": team, "decided": 0, "median_hours": None,
            "p90_hours": None, "open_now": 0, "overdue_now": 0})

    for key, buckets in lead_time_histograms((None, period.start, period.end), category_id=category_id).items():
        row(*key).update(decided=sum(n for _, n, _ in buckets), median_hours=_hours(histogram_quantile(buckets, 0.5)),
                         p90_hours=_hours(histogram_quantile(buckets, 0.9)))
    # Open gates only: the partial index of the open queue holds them.
    waiting = GateReview.objects.filter(state=ReviewState.OPEN)
    if category_id:
        waiting = waiting.filter(promise__category_id=category_id)
    keys = ("name", "step", "owning_team_id", "owning_team__name")
    for r in waiting.values(*keys).annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))).order_by():
        row(*(r[k] for k in keys)).update(open_now=r["n"], overdue_now=r["overdue"])
    return sorted(rows.values(), key=lambda r: (-(r["p90_hours"] or 0), -r["open_now"], r["gate"], r["team"]))


def overdue_gates(*, user, now: dt.datetime | None = None, category_id: int | None = None,
                  limit: int = 20) -> dict:
    """The open gates past their due time that `user` may see, longest overdue first. Two queries.

    Keys: `total` (all of them), `rows` (at most `limit`), each with `review_id`, `promise_id`,
    `promise`, `category`, `gate`, `team_id`, `team`, `due_at`, `overdue` (timedelta)."""
    now = now or timezone.now()
    qs = GateReview.objects.filter(gate_review_visible_q(user), state=ReviewState.OPEN, due_at__lt=now)
    if category_id:
        qs = qs.filter(promise__category_id=category_id)
    rows = (qs.order_by("due_at", "id")
            .values("pk", "promise_id", "promise__title", "promise__category__name", "name", "owning_team_id",
                    "owning_team__name", "due_at")[:limit])
    return {
        "total": qs.count(),
        "rows": [{"review_id": r["pk"], "promise_id": r["promise_id"], "promise": r["promise__title"],
                  "category": r["promise__category__name"], "gate": r["name"], "team_id": r["owning_team_id"],
                  "team": r["owning_team__name"], "due_at": r["due_at"], "overdue": now - r["due_at"]}
                 for r in rows],
    }


def feedback_by_channel_and_kind(*, period: Period, category_id: int | None = None) -> list[dict]:
    """Feedback received in the period per channel and kind: the month summaries of the whole UTC
    months, the raw rows of the edges (chart_summaries). Two queries.

    Keys: `channel`, `kind` (the stored values), `count`. Pairs without feedback are absent."""
    sums = feedback_sums([(None, period.start, period.end)], category_id=category_id).get(None, {})
    return [{"channel": channel, "kind": kind, "count": c["count"]}
            for (channel, kind), c in sorted(sums.items()) if c["count"]]


def scores_by_month(*, period: Period, category_id: int | None = None) -> list[dict]:
    """CSAT and NPS per (local) month of receipt, from the month summaries and the raw rows of the edges.
    Two queries.

    Keys: `month` (date, first of the month), `csat_average` (float 1..5, None without a CSAT score),
    `csat_responses`, `nps` (the Net Promoter Score, −100..100: the share of promoters (9–10) minus
    the share of detractors (0–6), in percent; None without an NPS score), `nps_responses`,
    `promoters`, `detractors`. Months without any score are absent."""
    result = []
    for month, by_pair in sorted(feedback_sums(_month_pieces(period), category_id=category_id).items()):
        total = sum(by_pair.values(), Counter())
        csat_n, nps_n = total["csat_count"], total["nps_count"]
        if not csat_n and not nps_n:
            continue
        result.append({"month": month, "csat_average": round(total["csat_sum"] / csat_n, 2) if csat_n else None,
                       "csat_responses": csat_n,
                       "nps": round((total["promoters"] - total["detractors"]) * 100 / nps_n, 1) if nps_n else None,
                       "nps_responses": nps_n, "promoters": total["promoters"], "detractors": total["detractors"]})
    return result
