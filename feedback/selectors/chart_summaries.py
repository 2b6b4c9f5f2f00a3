"""The dashboard's series (feedback/selectors/charts.py) from the summary rows, exact for any range of
local days.

The summaries count per UTC day (PromiseDay) or UTC month (FeedbackMonth, GateLeadTimeMonth); the
dashboard asks for ranges and months in the local time zone, cut anywhere. Each asked piece of time
[a, b) is read as the summary units between the unit boundaries nearest to a and to b, corrected by
the raw rows between each boundary and the asked moment — added where the units fall short of the
piece, subtracted where they reach past it. The raw rows read are those of an hour or two at a local
midnight, at most half a unit where the range is cut inside one, found by the index on the moment
(`verified_at`, `received_at`, the passed gates' `decided_at`); everything in between comes from the
summary rows. So a figure equals counting the raw rows, while the rows read grow with the range's
length in days or months, not with the number of promises.

Lead times are the passed gates' (the histograms hold those): their median and 90th percentile are
read from 2 % buckets (exact where a bucket's values are equal, within 2 % otherwise); the counts are
exact.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import RawSQL

from promises.models import PromiseDay, ServicePromise
from promises.outcomes import broken_q, kept_q
from qualitygates.models import GateLeadTimeMonth, GateReview, ReviewState
from qualitygates.summaries import LEAD_TIME_THRESHOLDS, lead_time_bucket

from ..models import Feedback, FeedbackMonth

# A piece of time to read: its key, start and end (exclusive), both aware datetimes.
Piece = tuple[Hashable, dt.datetime, dt.datetime]


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _floor(moment: dt.datetime, monthly: bool) -> dt.datetime:
    day = moment.astimezone(dt.UTC).date()
    return _utc_midnight(day.replace(day=1) if monthly else day)


def _next(start: dt.datetime, monthly: bool) -> dt.datetime:
    if monthly:
        return _utc_midnight((start.date() + dt.timedelta(days=32)).replace(day=1))
    return start + dt.timedelta(days=1)


def _snap(moment: dt.datetime, monthly: bool) -> dt.datetime:
    """The unit boundary nearest to `moment` (the earlier one on a tie: the same for a piece's end and
    the next piece's start)."""
    floor = _floor(moment, monthly)
    if floor == moment.astimezone(dt.UTC):
        return floor
    ceil = _next(floor, monthly)
    return floor if moment - floor <= ceil - moment else ceil


@dataclass(frozen=True)
class ReadPlan:
    whole: list[tuple[Hashable, dt.date, dt.date]]  # key, first unit, end unit (exclusive)
    raw: list[tuple[Hashable, dt.datetime, dt.datetime, int]]  # key, start, end (exclusive), sign


def read_plan(pieces: Sequence[Piece], *, monthly: bool) -> ReadPlan:
    whole, raw = [], []
    for key, a, b in pieces:
        u0, u1 = _snap(a, monthly), _snap(b, monthly)
        if u0 >= u1:
            if a < b:
                raw.append((key, a, b, 1))
            continue
        whole.append((key, u0.date(), u1.date()))
        if a != u0:
            raw.append((key, a, u0, 1) if a < u0 else (key, u0, a, -1))
        if b != u1:
            raw.append((key, u1, b, 1) if u1 < b else (key, b, u1, -1))
    return ReadPlan(whole, raw)


class _Slices:
    """Ranges (possibly overlapping, each with its key and sign) cut into the elementary intervals
    between their boundaries: one query tags each row with its interval, and each interval's sums go to
    every range that covers it."""

    def __init__(self, ranges: Sequence[tuple[Hashable, object, object, int]]):
        self.points = sorted({p for _, lo, hi, _ in ranges for p in (lo, hi)})
        self.owners: dict[int, list[tuple[Hashable, int]]] = {}
        for key, lo, hi, sign in ranges:
            for i in range(self.points.index(lo), self.points.index(hi)):
                self.owners.setdefault(i, []).append((key, sign))

    def filter(self, qs: QuerySet, field: str) -> QuerySet:
        within = Q()
        for i in sorted(self.owners):
            within |= Q(**{f"{field}__gte": self.points[i], f"{field}__lt": self.points[i + 1]})
        if len(self.points) == 2:  # one interval: a constant keeps the planner's group estimate (a hash) right
            return qs.filter(within).annotate(slice=Value(0, output_field=IntegerField()))
        return qs.filter(within).annotate(slice=Case(
            *[When(**{f"{field}__lt": p}, then=Value(i)) for i, p in enumerate(self.points[1:])],
            output_field=IntegerField()))

    def spread(self, rows, dims: Sequence[str], measures: Sequence[str], into: dict) -> None:
        """Add each row's measures, signed, to into[key][dims] for every range its slice belongs to."""
        for r in rows:
            owners = self.owners.get(r["slice"], ())
            if not owners:
                continue
            dim = tuple(r[d] for d in dims)
            values = [(m, r[m] or 0) for m in measures]
            for key, sign in owners:
                sums = into.setdefault(key, {}).get(dim)
                if sums is None:
                    sums = into[key][dim] = Counter()
                for m, v in values:
                    sums[m] += sign * v


def _read(plan: ReadPlan, *, summary: QuerySet, unit_field: str, summary_dims: Sequence[str],
          summary_sums: dict, raw: QuerySet, moment: str, raw_dims: Sequence[str], raw_sums: dict,
          ) -> dict[Hashable, dict[tuple, Counter]]:
    """{piece key: {dims: Counter(measures)}} — the summary rows of the whole units, then the signed raw
    rows of the edges. A query each, none for an empty part."""
    result: dict[Hashable, dict[tuple, Counter]] = {}
    if plan.whole:
        whole = _Slices([(key, first, end, 1) for key, first, end in plan.whole])
        rows = whole.filter(summary, unit_field).values("slice", *summary_dims).annotate(**summary_sums).order_by()
        whole.spread(rows, summary_dims, list(summary_sums), result)
    if plan.raw:
        edges = _Slices(plan.raw)
        rows = edges.filter(raw, moment).values("slice", *raw_dims).annotate(**raw_sums).order_by()
        edges.spread(rows, raw_dims, list(raw_sums), result)
    return result


def outcomes(pieces: Sequence[Piece], *, category_id: int | None) -> dict[Hashable, dict[tuple, Counter]]:
    """Kept and broken promises verified within each piece, per (category_id, category name)."""
    summary, raw = PromiseDay.objects.all(), ServicePromise.objects.all()
    if category_id:
        summary, raw = summary.filter(category_id=category_id), raw.filter(category_id=category_id)
    result = _read(read_plan(pieces, monthly=False), summary=summary, unit_field="day",
                   summary_dims=("category_id", "category__name"),
                   summary_sums={"kept": Sum("kept"), "broken": Sum("broken")},
                   raw=raw, moment="verified_at", raw_dims=("category_id", "category__name"),
                   raw_sums={"kept": Count("pk", filter=kept_q()), "broken": Count("pk", filter=broken_q())})
    # Rename the raw dims to the summary's: both are (category_id, category name) tuples already.
    return result


FEEDBACK_MEASURES = ("count", "csat_count", "csat_sum", "nps_count", "promoters", "detractors")


def feedback_sums(pieces: Sequence[Piece], *, category_id: int | None) -> dict[Hashable, dict[tuple, Counter]]:
    """Feedback received within each piece, per (channel, kind): count, CSAT count and sum, NPS scores
    given, promoters and detractors."""
    summary, raw = FeedbackMonth.objects.all(), Feedback.objects.all()
    if category_id:
        summary, raw = summary.filter(category_id=category_id), raw.filter(category_id=category_id)
    return _read(read_plan(pieces, monthly=True), summary=summary, unit_field="month",
                 summary_dims=("channel", "kind"), summary_sums={m: Sum(m) for m in FEEDBACK_MEASURES},
                 raw=raw, moment="received_at", raw_dims=("channel", "kind"),
                 raw_sums={"count": Count("pk"), "csat_count": Count("csat_score"), "csat_sum": Sum("csat_score"),
                           "nps_count": Count("nps_score"), "promoters": Count("pk", filter=Q(nps_score__gte=9)),
                           "detractors": Count("pk", filter=Q(nps_score__lte=6))})


def lead_time_histograms(piece: Piece, *, category_id: int | None) -> dict[tuple, list[tuple[int, int, int]]]:
    """The passed gates' lead-time histograms [(bucket, count, total µs)] of the gates passed within the
    piece, per (name, step, team id, team name). Up to three queries."""
    plan = read_plan([piece], monthly=True)
    summary = GateLeadTimeMonth.objects.all()
    raw = GateReview.objects.filter(state=ReviewState.PASSED, opened_at__isnull=False)
    if category_id:
        summary, raw = summary.filter(category_id=category_id), raw.filter(promise__category_id=category_id)
    # Team names looked up afterwards: grouping the many histogram rows by a joined name sorts on disk.
    dims = ("name", "step", "team_id")
    result: dict[Hashable, dict[tuple, Counter]] = {}
    if plan.whole:
        result = _read(ReadPlan(plan.whole, []), summary=summary, unit_field="month", summary_dims=(*dims, "bucket"),
                       summary_sums={"n": Sum("count"), "us": Sum("total_us")}, raw=raw, moment="decided_at",
                       raw_dims=(), raw_sums={})
    if plan.raw:
        edges = _Slices(plan.raw)
        raw_dims = ("name", "step", "owning_team_id")
        if connection.vendor == "postgresql":
            table = GateReview._meta.db_table
            seconds = f'EXTRACT(EPOCH FROM ("{table}"."decided_at" - "{table}"."opened_at"))'
            # The bucket as qualitygates.summaries.lead_time_bucket computes it (bisect_right = width_bucket).
            rows = (edges.filter(raw, "decided_at")
                    .annotate(bucket=RawSQL(f"width_bucket(GREATEST(0, FLOOR({seconds}))::bigint, %s::bigint[])",
                                            (LEAD_TIME_THRESHOLDS,), output_field=IntegerField()))
                    .values("slice", *raw_dims, "bucket")
                    .annotate(n=Count("pk"), us=Sum(RawSQL(f"ROUND({seconds} * 1000000)::bigint", ())))
                    .order_by())
        else:  # SQLite in development: the buckets in Python
            rows = []
            for r in edges.filter(raw, "decided_at").values("slice", *raw_dims, "opened_at", "decided_at"):
                lead = r["decided_at"] - r["opened_at"]
                rows.append({**r, "bucket": lead_time_bucket(lead.total_seconds()), "n": 1,
                             "us": round(lead.total_seconds() * 1_000_000)})
        renamed = [{"slice": r["slice"], "name": r["name"], "step": r["step"], "team_id": r["owning_team_id"],
                    "bucket": r["bucket"], "n": r["n"], "us": r["us"]}
                   for r in rows]
        edges.spread(renamed, (*dims, "bucket"), ("n", "us"), result)
    histograms: dict[tuple, list[tuple[int, int, int]]] = {}
    for (*key, bucket), sums in result.get(piece[0], {}).items():
        if sums["n"]:
            histograms.setdefault(tuple(key), []).append((bucket, int(sums["n"]), int(sums["us"])))
    teams = dict(Group.objects.filter(pk__in={team for _, _, team in histograms}).values_list("pk", "name")) \
        if histograms else {}
    return {(name, step, team, teams.get(team, "")): buckets for (name, step, team), buckets in histograms.items()}


__all__ = ["FEEDBACK_MEASURES", "Piece", "ReadPlan", "feedback_sums", "lead_time_histograms", "outcomes",
           "read_plan"]
