"""The board's trends read from the summary rows: keep rate by month and category, gate lead time by
gate and team, feedback by month, channel and kind with CSAT and NPS — stated answers on small data,
and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from feedback.models import FeedbackChannel, FeedbackKind
from feedback.selectors.trends import (
    feedback_by_month,
    first_month,
    keep_rate_by_month,
    lead_time_by_gate_and_team,
)
from feedback.services.intake import feedback_record
from tests.feedback.conftest import START

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.KVP_EARLY_WARNING_WINDOW = 1000
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 1000


def test_first_month_counts_back_across_the_year():
    assert first_month(months=3, now=dt.datetime(2026, 2, 10, tzinfo=dt.UTC)) == dt.date(2025, 12, 1)
    assert first_month(months=1, now=dt.datetime(2026, 2, 10, tzinfo=dt.UTC)) == dt.date(2026, 2, 1)


def test_keep_rate_by_month(kvp_clock, outcome, category, django_assert_max_num_queries):
    # Given two kept and one broken promise verified in January, one broken in March
    outcome(kept=True)
    outcome(kept=True)
    outcome(kept=False)
    kvp_clock.set(START + dt.timedelta(days=60))
    outcome(kept=False)
    with django_assert_max_num_queries(1):
        rows = keep_rate_by_month(months=12)
    assert [(r["month"], r["category"], r["kept"], r["broken"], r["keep_rate"]) for r in rows] == [
        (dt.date(2026, 1, 1), category.name, 2, 1, Decimal("0.667")),
        (dt.date(2026, 3, 1), category.name, 0, 1, Decimal("0.000")),
    ]


def test_lead_time_by_gate_and_team(kvp_clock, deliver, django_assert_max_num_queries):
    # Given gates that stayed open 60, 120 and 240 minutes before their go
    for minutes in (60, 120, 240):
        deliver(clock=kvp_clock, gate_minutes=minutes)
    with django_assert_max_num_queries(2):
        rows = lead_time_by_gate_and_team(months=12)
    by_gate = {r["gate"]: r for r in rows}
    assert set(by_gate) == {"Feasibility", "Legal check", "Delivery readiness"}
    feasibility = by_gate["Feasibility"]
    assert (feasibility["team"], feasibility["passed"], feasibility["median"]) == ("service", 3, dt.timedelta(minutes=120))
    # p90 of 60, 120, 240 (continuous): 120 + 0.8 × 120 = 216 minutes
    assert feasibility["p90"] == dt.timedelta(minutes=216)


def test_feedback_by_month_with_csat_and_nps(kvp_clock, category, service_user, django_assert_max_num_queries):
    for csat, nps in [(5, 10), (4, 9), (2, 3), (None, 7)]:
        feedback_record(user=service_user, kind=FeedbackKind.PRAISE, channel=FeedbackChannel.PHONE,
                        category=category, csat_score=csat, nps_score=nps, text="x")
    feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.EMAIL,
                    category=category, text="late")
    with django_assert_max_num_queries(1):
        rows = feedback_by_month(months=12)
    assert [(r["channel"], r["kind"], r["count"], r["csat_average"], r["nps"]) for r in rows] == [
        ("email", "complaint", 1, None, None),
        # CSAT (5 + 4 + 2) / 3; NPS: 2 promoters, 1 detractor of 4 scores → 25
        ("phone", "praise", 4, Decimal("3.67"), Decimal("25.0")),
    ]
    assert {r["month"] for r in rows} == {dt.date(2026, 1, 1)}
