"""The manager dashboard's series: plain ORM aggregates over a date range (and optionally one category),
each a fixed number of queries whatever the data size, returned as plain lists of dicts.

These read the live tables. Pre-aggregated summaries (`feedback/selectors/trends.py`) answer the same
questions at scale; a caller can switch to them without changing the keys documented here. A figure
read from the live tables is current, so these report no `as_of`.

The figures are aggregates that show no single record: they count every promise, whoever looks
(README, "Who sees what"). The one list of records here, the overdue gates, is filtered by the
reader's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import median, quantiles

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from promises.models import ServicePromise
from promises.outcomes import broken_q, kept_q
from promises.selectors import gate_review_visible_q
from qualitygates.models import GateReview, ReviewState

from ..models import Feedback
from .figures import rate

# Decisions that end a gate's wait: its lead time runs from opening to one of these.
DECIDED_STATES = [ReviewState.PASSED, ReviewState.FAILED, ReviewState.ON_HOLD, ReviewState.RECYCLED]


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile of an interval or a number."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=f"{float(fraction):.2f}", **extra)


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


def _month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


def keep_rate_by_month(*, period: Period, category_id: int | None = None) -> list[dict]:
    """Verified promises per month of verification and category. One query.

    Keys: `month` (date, first of the month), `category_id`, `category` (name), `kept`, `broken`,
    `keep_rate` (Decimal 0..1, None without verified promises). Months or categories without a verified
    promise are absent."""
    qs = ServicePromise.objects.filter(verified_at__gte=period.start, verified_at__lt=period.end)
    if category_id:
        qs = qs.filter(category_id=category_id)
    rows = (qs.annotate(month=TruncMonth("verified_at")).values("month", "category_id", "category__name")
            .annotate(kept=Count("pk", filter=kept_q()), broken=Count("pk", filter=broken_q()))
            .order_by("month", "category__name", "category_id"))
    return [{"month": _month(r["month"]), "category_id": r["category_id"], "category": r["category__name"],
             "kept": r["kept"], "broken": r["broken"], "keep_rate": rate(r["kept"], r["kept"] + r["broken"])}
            for r in rows]


def _hours(value) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return round(seconds / 3600, 2)


def gate_lead_times(*, period: Period, category_id: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Where promises wait: per gate (its name and lifecycle step) and owning team, the median and the
    90th percentile of the time from opening to decision (calendar hours) of the gates decided in the
    period, and how many of them wait open right now. Two queries.

    Keys: `gate`, `step`, `team_id`, `team`, `decided`, `median_hours`, `p90_hours` (floats, None when
    nothing was decided), `open_now`, `overdue_now`. Sorted by the 90th percentile, longest first: the
    bottlenecks on top."""
    now = now or timezone.now()
    decided = GateReview.objects.filter(state__in=DECIDED_STATES, opened_at__isnull=False,
                                        decided_at__gte=period.start, decided_at__lt=period.end)
    waiting = GateReview.objects.filter(state=ReviewState.OPEN)
    if category_id:
        decided = decided.filter(promise__category_id=category_id)
        waiting = waiting.filter(promise__category_id=category_id)
    duration = ExpressionWrapper(F("decided_at") - F("opened_at"), output_field=DurationField())
    keys = ("name", "step", "owning_team_id", "owning_team__name")
    rows: dict[tuple, dict] = {}

    def row(r) -> dict:
        key = tuple(r[k] for k in keys)
        return rows.setdefault(key, {"gate": r["name"], "step": r["step"], "team_id": r["owning_team_id"],
                                     "team": r["owning_team__name"], "decided": 0, "median_hours": None,
                                     "p90_hours": None, "open_now": 0, "overdue_now": 0})

    if connection.vendor == "postgresql":
        for r in decided.values(*keys).annotate(
                n=Count("pk"), median=Percentile(duration, 0.5, output_field=DurationField()),
                p90=Percentile(duration, 0.9, output_field=DurationField())).order_by():
            row(r).update(decided=r["n"], median_hours=_hours(r["median"]), p90_hours=_hours(r["p90"]))
    else:  # SQLite in development: the percentiles picked in Python from one ordered query
        grouped: dict[tuple, list[float]] = {}
        for r in decided.annotate(duration=duration).values(*keys, "duration").order_by("duration"):
            grouped.setdefault(tuple(r[k] for k in keys), []).append(r["duration"].total_seconds())
            row(r)
        for key, values in grouped.items():
            cuts = quantiles(values, n=10, method="inclusive") if len(values) > 1 else values * 9
            rows[key].update(decided=len(values), median_hours=_hours(median(values)),
                             p90_hours=_hours(cuts[8]))
    for r in waiting.values(*keys).annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))).order_by():
        row(r).update(open_now=r["n"], overdue_now=r["overdue"])
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


def _feedback(period: Period, category_id: int | None):
    qs = Feedback.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    return qs.filter(category_id=category_id) if category_id else qs


def feedback_by_channel_and_kind(*, period: Period, category_id: int | None = None) -> list[dict]:
    """Feedback received in the period per channel and kind. One query.

    Keys: `channel`, `kind` (the stored values), `count`. Pairs without feedback are absent."""
    rows = (_feedback(period, category_id).values("channel", "kind").annotate(n=Count("pk"))
            .order_by("channel", "kind"))
    return [{"channel": r["channel"], "kind": r["kind"], "count": r["n"]} for r in rows]


def scores_by_month(*, period: Period, category_id: int | None = None) -> list[dict]:
    """CSAT and NPS per month of receipt. One query.

    Keys: `month` (date, first of the month), `csat_average` (float 1..5, None without a CSAT score),
    `csat_responses`, `nps` (the Net Promoter Score, −100..100: the share of promoters (9–10) minus
    the share of detractors (0–6), in percent; None without an NPS score), `nps_responses`,
    `promoters`, `detractors`. Months without any score are absent."""
    rows = (_feedback(period, category_id).filter(Q(csat_score__isnull=False) | Q(nps_score__isnull=False))
            .annotate(month=TruncMonth("received_at")).values("month")
            .annotate(csat=Avg("csat_score", output_field=FloatField()), csat_n=Count("csat_score"),
                      nps_n=Count("nps_score"), promoters=Count("pk", filter=Q(nps_score__gte=9)),
                      detractors=Count("pk", filter=Q(nps_score__lte=6)))
            .order_by("month"))
    result = []
    for r in rows:
        nps = round((r["promoters"] - r["detractors"]) * 100 / r["nps_n"], 1) if r["nps_n"] else None
        result.append({"month": _month(r["month"]),
                       "csat_average": round(r["csat"], 2) if r["csat"] is not None else None,
                       "csat_responses": r["csat_n"], "nps": nps, "nps_responses": r["nps_n"],
                       "promoters": r["promoters"], "detractors": r["detractors"]})
    return result
