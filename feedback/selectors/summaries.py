"""Figures over time windows read from the summary rows (promises/summary_models.py,
qualitygates/summary_models.py): whole UTC days from the day rows, the partial days at a window's two
edges from the raw rows by index — so a window's figure equals counting the raw rows, while the rows
read grow with the window's length in days, not with the number of promises.

Each function answers any number of windows in one or two statements.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from django.db import connection

KEPT_SQL = ("((p.comparison = 'lte' AND p.actual_value <= p.target_value) OR (p.comparison = 'gte' AND "
            "p.actual_value >= p.target_value) OR (p.comparison = 'eq' AND p.actual_value = p.target_value))")


@dataclass(frozen=True)
class Window:
    """Rows of `category_id` from `start` to `end` (the end included when `inclusive`)."""

    key: Hashable
    category_id: int
    start: dt.datetime
    end: dt.datetime
    inclusive: bool = False


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _split(window: Window) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.datetime, dt.datetime, bool]]]:
    """The whole days [first, last) of the window, and the raw pieces (start, end, end included)."""
    start, end = window.start.astimezone(dt.UTC), window.end.astimezone(dt.UTC)
    first = start.date() if start == _midnight(start.date()) else start.date() + dt.timedelta(days=1)
    last = end.date()
    if first >= last:
        return None, [(start, end, window.inclusive)]
    pieces = [(_midnight(last), end, window.inclusive)]
    if start < _midnight(first):
        pieces.insert(0, (start, _midnight(first), False))
    return (first, last), pieces


def _values(rows: Sequence[tuple], types: Sequence[str]) -> tuple[str, list]:
    row = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
    return ", ".join([row] * len(rows)), [v for r in rows for v in r]


def outcome_counts(windows: Sequence[Window]) -> dict[Hashable, dict[str, int]]:
    """Kept and broken promises verified within each window: {key: {"kept": n, "broken": n}}. One query."""
    return window_counts(windows, measures=("kept", "broken"))


def made_counts(windows: Sequence[Window]) -> dict[Hashable, dict[str, int]]:
    """Promises created within each window that left their draft: {key: {"made": n}}. One query."""
    return window_counts(windows, measures=("made",))


# Per measure: the raw rows' moment, their condition, and what a row counts.
RAW = {
    "made": ("created_at", "p.state <> 'draft'", "1"),
    "kept": ("verified_at", "p.actual_value IS NOT NULL", f"CASE WHEN {KEPT_SQL} THEN 1 ELSE 0 END"),
    "broken": ("verified_at", "p.actual_value IS NOT NULL", f"CASE WHEN {KEPT_SQL} THEN 0 ELSE 1 END"),
}


def window_counts(windows: Sequence[Window], *, measures: Sequence[str] = ("made", "kept", "broken"),
                  ) -> dict[Hashable, dict[str, int]]:
    """`measures` of each window in one statement: the day rows of its whole days plus the raw rows of
    its partial edge days (by the promise's (category, created_at / verified_at) indexes)."""
    result = {w.key: dict.fromkeys(measures, 0) for w in windows}
    if not windows:
        return result
    if connection.vendor != "postgresql":
        return _raw_window_counts(windows, measures)
    days, pieces = [], []
    for i, w in enumerate(windows):
        whole, raw = _split(w)
        if whole:
            days.append((i, w.category_id, *whole))
        pieces.extend((i, w.category_id, a, b, inclusive) for a, b, inclusive in raw)
    # A window list (VALUES) joined LATERALly: one index range scan per window and piece on the
    # (category, day) and (category, verified_at / created_at) indexes, whatever the number of windows,
    # and a plan that does not grow with them. An included end is the next microsecond excluded.
    parts, params = [], []
    if days:
        values, day_params = _values(days, ("int", "bigint", "date", "date"))
        sums = ", ".join(f"SUM(s.{m})" for m in measures)
        parts.append(f"SELECT w.i, x.* FROM (VALUES {values}) AS w(i, category_id, first, last) CROSS JOIN LATERAL "
                     f"(SELECT {sums} FROM promises_promiseday s WHERE s.category_id = w.category_id "
                     "AND s.day >= w.first AND s.day < w.last) AS x")
        params += day_params
    for moment in dict.fromkeys(RAW[m][0] for m in measures):
        mine = [m for m in measures if RAW[m][0] == moment]
        condition = RAW[mine[0]][1]
        columns = ", ".join(f"SUM({RAW[m][2]})" if m in mine else "0" for m in measures)
        values, piece_params = _values([(i, c, a, b + dt.timedelta(microseconds=1) if inclusive else b)
                                        for i, c, a, b, inclusive in pieces],
                                       ("int", "bigint", "timestamptz", "timestamptz"))
        parts.append(f"SELECT w.i, x.* FROM (VALUES {values}) AS w(i, category_id, a, b) CROSS JOIN LATERAL "
                     f"(SELECT {columns} FROM promises_servicepromise p WHERE p.category_id = w.category_id "
                     f"AND p.{moment} >= w.a AND p.{moment} < w.b AND {condition}) AS x")
        params += piece_params
    sums = ", ".join(f"SUM(x.{m})" for m in measures)
    sql = (f"SELECT x.i, {sums} FROM ({' UNION ALL '.join(parts)}) AS x(i, {', '.join(measures)}) GROUP BY x.i")
    index = {i: w.key for i, w in enumerate(windows)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for i, *values in cursor.fetchall():
            result[index[i]] = {m: int(v or 0) for m, v in zip(measures, values, strict=True)}
    return result


def broken_reasons(window: Window) -> Counter:
    """How often each outcome reason broke a promise verified within the window (empty reasons left
    out): the reason day rows of its whole days plus the raw rows of its edge days, one query."""
    if connection.vendor != "postgresql":
        return _raw_broken_reasons(window)
    whole, pieces = _split(window)
    parts, params = [], []
    if whole:
        parts.append("SELECT reason, broken FROM promises_brokenreasonday WHERE category_id = %s AND day >= %s "
                     "AND day < %s")
        params += [window.category_id, *whole]
    for a, b, inclusive in pieces:
        parts.append("SELECT p.outcome_reason, 1 FROM promises_servicepromise p WHERE p.category_id = %s "
                     f"AND p.verified_at >= %s AND p.verified_at {'<=' if inclusive else '<'} %s "
                     f"AND p.actual_value IS NOT NULL AND NOT {KEPT_SQL} AND p.outcome_reason <> ''")
        params += [window.category_id, a, b]
    sql = " UNION ALL ".join(parts)
    reasons: Counter = Counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT x.reason, SUM(x.n) FROM ({sql}) AS x(reason, n) GROUP BY x.reason", params)
        reasons.update({r: int(n) for r, n in cursor.fetchall()})
    return +reasons


def histogram_quantile(buckets: Sequence[tuple[int, int, int]], q: float) -> dt.timedelta | None:
    """PERCENTILE_CONT(q) over a lead-time histogram [(bucket, count, total µs)], each value taken as its
    bucket's mean: exact where a bucket's values are equal, else within the bucket's 2 %."""
    ordered = sorted(b for b in buckets if b[1])
    n = sum(count for _, count, _ in ordered)
    if not n:
        return None
    position = q * (n - 1)
    lower_rank, fraction = int(position), position - int(position)

    def value_at(rank: int) -> float:
        seen = 0
        for _, count, total in ordered:
            if rank < seen + count:
                return total / count
            seen += count
        return ordered[-1][2] / ordered[-1][1]

    low = value_at(lower_rank)
    high = value_at(lower_rank + 1) if fraction else low
    return dt.timedelta(microseconds=round(low + (high - low) * fraction))


def lead_time_histograms(*, group_by: Sequence[str], since_month: dt.date, category_id: int | None = None,
                         ) -> dict[tuple, list[tuple[int, int, int]]]:
    """The passed gates' lead-time histograms from `since_month` on, per `group_by` columns of
    GateLeadTimeMonth (e.g. ("step", "name") or ("name", "team_id", "month")): one statement."""
    if connection.vendor != "postgresql":
        return _raw_lead_time_histograms(group_by, since_month, category_id)
    columns = ", ".join(f'"{c}"' for c in group_by)
    where, params = "month >= %s", [since_month]
    if category_id is not None:
        where, params = where + " AND category_id = %s", [*params, category_id]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}, bucket, SUM(count), SUM(total_us) FROM qualitygates_gateleadtimemonth "
                       f"WHERE {where} GROUP BY {columns}, bucket", params)
        histograms: dict[tuple, list[tuple[int, int, int]]] = {}
        for *key, bucket, count, total in cursor.fetchall():
            histograms.setdefault(tuple(key), []).append((bucket, int(count), int(total)))
    return histograms


# --- the embedded default (SQLite, `make run`): the same figures from the raw rows, one query per window.

def _in(moment: str, w: Window) -> dict:
    return {f"{moment}__gte": w.start, f"{moment}__lte" if w.inclusive else f"{moment}__lt": w.end}


def _raw_window_counts(windows, measures) -> dict[Hashable, dict[str, int]]:
    from django.db.models import Count

    from promises.models import PromiseState, ServicePromise
    from promises.outcomes import broken_q, kept_q

    result = {}
    for w in windows:
        of_category = ServicePromise.objects.filter(category_id=w.category_id)
        made = of_category.filter(**_in("created_at", w)).exclude(state=PromiseState.DRAFT).count()
        outcomes = of_category.filter(**_in("verified_at", w)).aggregate(
            kept=Count("pk", filter=kept_q()), broken=Count("pk", filter=broken_q()))
        counts = {"made": made, **outcomes}
        result[w.key] = {m: counts[m] for m in measures}
    return result


def _raw_broken_reasons(window: Window) -> Counter:
    from promises.models import ServicePromise
    from promises.outcomes import broken_q

    return +Counter(ServicePromise.objects.filter(broken_q(), category_id=window.category_id,
                                                  **_in("verified_at", window))
                    .exclude(outcome_reason="").values_list("outcome_reason", flat=True))


def _raw_lead_time_histograms(group_by, since_month, category_id) -> dict[tuple, list[tuple[int, int, int]]]:
    from qualitygates.models import GateReview, ReviewState
    from qualitygates.summaries import lead_time_bucket, month_of

    reviews = GateReview.objects.filter(state=ReviewState.PASSED, opened_at__isnull=False, decided_at__isnull=False,
                                        decided_at__gte=_midnight(since_month)).select_related("promise")
    if category_id is not None:
        reviews = reviews.filter(promise__category_id=category_id)
    counts: dict[tuple, Counter] = {}
    totals: dict[tuple, Counter] = {}
    for r in reviews:
        row = {"step": r.step, "name": r.name, "order": r.order, "team_id": r.owning_team_id,
               "definition_id": r.definition_id, "category_id": r.promise.category_id,
               "month": month_of(r.decided_at)}
        key = tuple(row[c] for c in group_by)
        lead = r.decided_at - r.opened_at
        bucket = lead_time_bucket(lead.total_seconds())
        counts.setdefault(key, Counter())[bucket] += 1
        totals.setdefault(key, Counter())[bucket] += round(lead.total_seconds() * 1_000_000)
    return {key: [(b, n, totals[key][b]) for b, n in c.items()] for key, c in counts.items()}


__all__ = ["Window", "broken_reasons", "histogram_quantile", "lead_time_histograms", "made_counts",
           "outcome_counts", "window_counts"]
