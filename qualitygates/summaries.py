"""Keeping the gates' summary rows in step (qualitygates/summary_models.py), inside the transaction of
the change: a gate that passes adds its lead time to its month's histogram and, the first time the
promise passes that gate, counts it as passed for the gate escapes; a promise's verification (and its
reopening) moves the escape counts of every gate it passed (`gate_escapes_count_outcome`, called by
promises/summaries.py)."""

from __future__ import annotations

import bisect
import datetime as dt
import math

from django.db import connection

from core.tallies import tally_add

from .models import GateEscapeReason, GateEscapeTally, GateLeadTimeMonth, GateReview, GateStep, ReviewState

# A histogram bucket spans 2 % of its values (see GateLeadTimeMonth): the bucket of a lead time is the
# number of these whole-second thresholds at or below its whole seconds. Integers, so that Python here
# and PostgreSQL's width_bucket in the recomputation (feedback/summaries_check.py) agree to the second.
LEAD_TIME_THRESHOLDS = sorted({math.ceil(1.02 ** k) for k in range(1200)})


def lead_time_bucket(seconds: float) -> int:
    return bisect.bisect_right(LEAD_TIME_THRESHOLDS, max(0, math.floor(seconds)))


def month_of(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date().replace(day=1)


def gate_summaries_record_pass(review: GateReview) -> None:
    """A gate review has just passed (its row saved): count its lead time and, for the gate escapes,
    the promise as having passed the gate. Two statements."""
    promise = review.promise if GateReview.promise.is_cached(review) else None
    category_id = promise.category_id if promise is not None else (
        GateReview.objects.filter(pk=review.pk).values_list("promise__category_id", flat=True).first())
    if review.opened_at is not None and review.decided_at is not None:
        lead = review.decided_at - review.opened_at
        tally_add(GateLeadTimeMonth._meta.db_table, key={
            "category_id": category_id, "definition_id": review.definition_id, "step": review.step,
            "name": review.name, "order": review.order, "team_id": review.owning_team_id,
            "month": month_of(review.decided_at), "bucket": lead_time_bucket(lead.total_seconds()),
        }, deltas={"count": 1, "total_us": _microseconds(lead)})
    if review.definition_id is None or review.step == GateStep.CLOSURE:
        return
    tally = GateEscapeTally._meta.db_table
    reviews = GateReview._meta.db_table
    # Counted once per promise: a later round passing the same gate again adds nothing. A promise
    # already verified when the gate passes (rare) brings its outcome along.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {tally} (definition_id, passed, verified, escaped) "
            f"SELECT %(d)s, 1, CASE WHEN p.verified_at IS NOT NULL AND p.actual_value IS NOT NULL THEN 1 ELSE 0 END, "
            f"CASE WHEN p.verified_at IS NOT NULL AND {_BROKEN_SQL} THEN 1 ELSE 0 END "
            f"FROM promises_servicepromise p WHERE p.id = %(p)s AND NOT EXISTS (SELECT 1 FROM {reviews} r "
            f"WHERE r.promise_id = %(p)s AND r.definition_id = %(d)s AND r.state = %(passed)s AND r.id <> %(r)s) "
            f"ON CONFLICT (definition_id) DO UPDATE SET passed = {tally}.passed + EXCLUDED.passed, "
            f"verified = {tally}.verified + EXCLUDED.verified, escaped = {tally}.escaped + EXCLUDED.escaped "
            f"RETURNING escaped",
            {"d": review.definition_id, "p": review.promise_id, "r": review.pk, "passed": ReviewState.PASSED})
        row = cursor.fetchone()
    if row is not None and row[0]:
        reason = (promise.outcome_reason if promise is not None else
                  GateReview.objects.filter(pk=review.pk).values_list("promise__outcome_reason", flat=True).first())
        if reason:
            tally_add(GateEscapeReason._meta.db_table, key={"definition_id": review.definition_id,
                                                             "reason": reason}, deltas={"escaped": 1})


_BROKEN_SQL = ("p.actual_value IS NOT NULL AND ((p.comparison = 'lte' AND p.actual_value > p.target_value) "
               "OR (p.comparison = 'gte' AND p.actual_value < p.target_value) "
               "OR (p.comparison = 'eq' AND p.actual_value <> p.target_value))")


def _microseconds(delta: dt.timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def gate_escapes_count_outcome(*, promise_id: int, broken: bool, reason: str, sign: int) -> None:
    """A promise was verified (sign 1) or its verification reopened (sign -1): every approval and
    delivery gate it passed counts it verified, and escaped when it broke."""
    definitions = sorted(set(GateReview.objects.filter(
        promise_id=promise_id, state=ReviewState.PASSED, definition__isnull=False,
    ).exclude(step=GateStep.CLOSURE).values_list("definition_id", flat=True)))
    for definition_id in definitions:
        tally_add(GateEscapeTally._meta.db_table, key={"definition_id": definition_id},
                  deltas={"verified": sign, "escaped": sign if broken else 0})
        if broken and reason:
            tally_add(GateEscapeReason._meta.db_table, key={"definition_id": definition_id, "reason": reason},
                      deltas={"escaped": sign})
