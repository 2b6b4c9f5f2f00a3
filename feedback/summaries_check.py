"""Recomputing every summary row from the raw rows (`manage.py kvp_summaries`): compare with what the
services kept, or rewrite them. The SQL here is the definition of each summary; the services
(promises/summaries.py, qualitygates/summaries.py, feedback/services/summaries.py) keep the same
figures one change at a time."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from qualitygates.summaries import LEAD_TIME_THRESHOLDS

KEPT = ("((p.comparison = 'lte' AND p.actual_value <= p.target_value) OR (p.comparison = 'gte' AND "
        "p.actual_value >= p.target_value) OR (p.comparison = 'eq' AND p.actual_value = p.target_value))")
VERIFIED = "(p.actual_value IS NOT NULL AND p.verified_at IS NOT NULL)"


@dataclass(frozen=True)
class Summary:
    table: str
    keys: tuple[str, ...]
    counters: tuple[str, ...]
    expected_sql: str  # key columns then counters, one row per key


SUMMARIES = [
    Summary("promises_promiseday", ("category_id", "day"), ("made", "kept", "broken"), f"""
        SELECT category_id, day, SUM(made), SUM(kept), SUM(broken) FROM (
          SELECT p.category_id, (p.created_at AT TIME ZONE 'UTC')::date AS day, 1 AS made, 0 AS kept, 0 AS broken
            FROM promises_servicepromise p WHERE p.state <> 'draft'
          UNION ALL
          SELECT p.category_id, (p.verified_at AT TIME ZONE 'UTC')::date, 0,
                 CASE WHEN {KEPT} THEN 1 ELSE 0 END, CASE WHEN {KEPT} THEN 0 ELSE 1 END
            FROM promises_servicepromise p WHERE {VERIFIED}) x GROUP BY 1, 2"""),
    Summary("promises_brokenreasonday", ("category_id", "day", "reason"), ("broken",), f"""
        SELECT p.category_id, (p.verified_at AT TIME ZONE 'UTC')::date, p.outcome_reason, COUNT(*)
          FROM promises_servicepromise p WHERE {VERIFIED} AND NOT {KEPT} AND p.outcome_reason <> ''
         GROUP BY 1, 2, 3"""),
    Summary("qualitygates_gateleadtimemonth",
            ("category_id", "definition_id", "step", "name", "order", "team_id", "month", "bucket"),
            ("count", "total_us"), """
        SELECT p.category_id, r.definition_id, r.step, r.name, r."order", r.owning_team_id,
               date_trunc('month', r.decided_at AT TIME ZONE 'UTC')::date,
               width_bucket(GREATEST(0, floor(EXTRACT(EPOCH FROM r.decided_at - r.opened_at)))::bigint,
                            %(thresholds)s::bigint[]),
               COUNT(*), SUM((EXTRACT(EPOCH FROM r.decided_at - r.opened_at) * 1000000)::bigint)
          FROM qualitygates_gatereview r JOIN promises_servicepromise p ON p.id = r.promise_id
         WHERE r.state = 'passed' AND r.opened_at IS NOT NULL AND r.decided_at IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""),
    Summary("qualitygates_gateescapetally", ("definition_id",), ("passed", "verified", "escaped"), f"""
        SELECT x.definition_id, COUNT(*), COUNT(*) FILTER (WHERE {VERIFIED}),
               COUNT(*) FILTER (WHERE {VERIFIED} AND NOT {KEPT})
          FROM (SELECT DISTINCT definition_id, promise_id FROM qualitygates_gatereview
                 WHERE state = 'passed' AND definition_id IS NOT NULL AND step <> 'closure') x
          JOIN promises_servicepromise p ON p.id = x.promise_id GROUP BY 1"""),
    Summary("qualitygates_gateescapereason", ("definition_id", "reason"), ("escaped",), f"""
        SELECT x.definition_id, p.outcome_reason, COUNT(*)
          FROM (SELECT DISTINCT definition_id, promise_id FROM qualitygates_gatereview
                 WHERE state = 'passed' AND definition_id IS NOT NULL AND step <> 'closure') x
          JOIN promises_servicepromise p ON p.id = x.promise_id
         WHERE {VERIFIED} AND NOT {KEPT} AND p.outcome_reason <> '' GROUP BY 1, 2"""),
    Summary("feedback_feedbackmonth", ("category_id", "month", "channel", "kind"),
            ("count", "csat_count", "csat_sum", "nps_count", "promoters", "detractors"), """
        SELECT category_id, date_trunc('month', received_at AT TIME ZONE 'UTC')::date, channel, kind, COUNT(*),
               COUNT(csat_score), COALESCE(SUM(csat_score), 0), COUNT(nps_score),
               COUNT(*) FILTER (WHERE nps_score >= 9), COUNT(*) FILTER (WHERE nps_score <= 6)
          FROM feedback_feedback GROUP BY 1, 2, 3, 4"""),
]


def _params() -> dict:
    return {"thresholds": LEAD_TIME_THRESHOLDS}


def _rows(sql: str, keys: int) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, _params())
        return {tuple(row[:keys]): tuple(int(v) for v in row[keys:]) for row in cursor.fetchall()}


def summaries_compare() -> list[str]:
    """Every difference between the stored summary rows and a recomputation (a row of zeros counts as
    absent): one line each, empty when they agree."""
    diffs = []
    for s in SUMMARIES:
        q = connection.ops.quote_name
        keys = ", ".join(q(c) for c in s.keys)
        sums = ", ".join(f"SUM({q(c)})" for c in s.counters)
        stored = _rows(f"SELECT {keys}, {sums} FROM {s.table} GROUP BY {keys}", len(s.keys))
        expected = _rows(s.expected_sql, len(s.keys))
        zero = (0,) * len(s.counters)
        for key in sorted(set(stored) | set(expected), key=repr):
            have, want = stored.get(key, zero), expected.get(key, zero)
            if have != want:
                diffs.append(f"{s.table} {dict(zip(s.keys, key, strict=True))}: stored "
                             f"{dict(zip(s.counters, have, strict=True))}, recomputed "
                             f"{dict(zip(s.counters, want, strict=True))}")
    return diffs


def summaries_rebuild() -> dict[str, int]:
    """Rewrite every summary table from the raw rows, in one transaction. The summary tables are locked
    first: a transition that is updating them finishes (and is counted) before, the next waits."""
    q = connection.ops.quote_name
    written = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(s.table for s in SUMMARIES)} IN EXCLUSIVE MODE")
        for s in SUMMARIES:
            cursor.execute(f"DELETE FROM {s.table}")
            cursor.execute(f"INSERT INTO {s.table} ({', '.join(q(c) for c in (*s.keys, *s.counters))}) "
                           f"{s.expected_sql}", _params())
            written[s.table] = cursor.rowcount
    return written
