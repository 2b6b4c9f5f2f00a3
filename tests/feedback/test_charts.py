"""The dashboard's series: keep rate by month and category, gate lead time percentiles by gate and
team, feedback by channel and kind, CSAT and NPS by month — each a fixed number of queries (the
summary rows, and the raw rows of the range's edges). Exactness at cut ranges: test_charts_exact.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from feedback.models import FeedbackChannel, FeedbackKind
from feedback.selectors import charts
from feedback.services.intake import feedback_record
from qualitygates.models import GateReview, ReviewState
from tests.web.kvp_support import deliver, outcome  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _period(days_back: int = 30) -> charts.Period:
    today = dt.date.today()
    return charts.Period(today - dt.timedelta(days=days_back), today + dt.timedelta(days=1))


def test_period_months_cover_every_month_touched():
    period = charts.Period(dt.date(2025, 11, 15), dt.date(2026, 2, 3))
    assert period.months() == [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    assert period.end - period.start == dt.timedelta(days=81)


def test_keep_rate_by_month_counts_kept_and_broken_per_category(outcome, category, django_assert_max_num_queries):  # noqa: F811
    outcome(kept=True)
    outcome(kept=True)
    outcome(kept=False)
    with django_assert_max_num_queries(2):
        rows = charts.keep_rate_by_month(period=_period())
    assert [(r["category_id"], r["kept"], r["broken"], r["keep_rate"]) for r in rows] == [
        (category.pk, 2, 1, Decimal("0.667"))]
    assert charts.keep_rate_by_month(period=_period(), category_id=category.pk + 1000) == []


def test_gate_lead_times_give_median_and_p90_per_gate_and_team(deliver, django_assert_max_num_queries):  # noqa: F811
    for _ in range(2):
        deliver()
    # spread the first gate's waits: 1 h, 3 h
    reviews = list(GateReview.objects.filter(state=ReviewState.PASSED, order=1, step="approval").order_by("pk"))
    for review, hours in zip(reviews, (1, 3), strict=True):
        GateReview.objects.filter(pk=review.pk).update(decided_at=review.opened_at + dt.timedelta(hours=hours))
    # rewritten behind the services' back: the histograms recomputed from the raw rows
    call_command("kvp_summaries", "--fix", "--quiet", stdout=StringIO())
    with django_assert_max_num_queries(4):
        rows = charts.gate_lead_times(period=_period())
    first = next(r for r in rows if r["gate"] == reviews[0].name and r["team_id"] == reviews[0].owning_team_id)
    assert first["decided"] == 2 and first["median_hours"] == 2.0 and first["p90_hours"] == pytest.approx(2.8)
    assert rows[0]["p90_hours"] >= rows[-1]["p90_hours"]


def test_scores_by_month_give_csat_average_and_the_net_promoter_score(category, service_user, django_assert_max_num_queries):
    for csat, nps in ((5, 10), (4, 9), (2, 3), (None, 7)):
        feedback_record(user=service_user, category=category, channel=FeedbackChannel.SURVEY, kind=FeedbackKind.PRAISE,
                        csat_score=csat, nps_score=nps, text="Thanks")
    feedback_record(user=service_user, category=category, channel=FeedbackChannel.PHONE, kind=FeedbackKind.COMPLAINT,
                    text="x")
    with django_assert_max_num_queries(2):
        [row] = charts.scores_by_month(period=_period())
    # 2 promoters, 1 detractor of 4 answers: NPS 25
    assert (row["csat_average"], row["csat_responses"], row["nps"], row["nps_responses"]) == (3.67, 3, 25.0, 4)
    by_pair = {(r["channel"], r["kind"]): r["count"] for r in charts.feedback_by_channel_and_kind(period=_period())}
    assert by_pair == {("survey", "praise"): 4, ("phone", "complaint"): 1}
