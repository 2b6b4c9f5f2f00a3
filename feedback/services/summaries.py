"""Keeping the feedback's monthly summary rows (feedback.summary_models.FeedbackMonth) in step: called by
every service that records feedback, in its transaction. Feedback is never edited or deleted through
the product (the admin shows it read-only; an erasure rewrites texts only), so recording is the one
change that moves the figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from core.tallies import tally_add_rows

from ..models import Feedback, FeedbackMonth

PROMOTER_MIN, DETRACTOR_MAX = 9, 6
COUNTERS = ("count", "csat_count", "csat_sum", "nps_count", "promoters", "detractors")


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the UTC month of an aware datetime."""
    return moment.astimezone(dt.UTC).date().replace(day=1)


def feedback_summaries_record(items: Iterable[Feedback]) -> None:
    """Add newly recorded feedback to its summary rows: one statement, however many rows."""
    totals: dict[tuple, Counter] = {}
    for item in items:
        c = totals.setdefault((item.category_id, month_of(item.received_at), item.channel, item.kind), Counter())
        c["count"] += 1
        if item.csat_score is not None:
            c["csat_count"] += 1
            c["csat_sum"] += item.csat_score
        if item.nps_score is not None:
            c["nps_count"] += 1
            c["promoters"] += item.nps_score >= PROMOTER_MIN
            c["detractors"] += item.nps_score <= DETRACTOR_MAX
    tally_add_rows(FeedbackMonth._meta.db_table, keys=("category_id", "month", "channel", "kind"),
                   counters=COUNTERS, rows=totals)
