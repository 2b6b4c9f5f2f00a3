"""The dashboard's figures, read from the summaries with the range's edges from the raw rows, equal a
recomputation from the raw rows for a range of local days cut inside months — on the demo seeded
through the services."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from feedback.models import Feedback
from feedback.selectors import charts
from promises.models import ServicePromise
from qualitygates.models import GateReview, ReviewState

pytestmark = pytest.mark.postgres


def _local_month(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def _cut_period() -> charts.Period:
    """Two days inside the first and the last verification: the demo's history spans about two months,
    so both edges fall inside a month (the test checks that they do)."""
    moments = ServicePromise.objects.filter(verified_at__isnull=False).values_list("verified_at", flat=True)
    first, last = timezone.localdate(min(moments)), timezone.localdate(max(moments))
    return charts.Period(first + dt.timedelta(days=2), last - dt.timedelta(days=2))


def test_the_dashboard_figures_equal_the_raw_rows_for_a_range_cut_inside_months(demo, client, manager):
    # Given the demo's history and a range whose edges cut months (and local midnights, not UTC ones)
    period = _cut_period()
    assert period.first.day != 1 and (period.last + dt.timedelta(days=1)).day != 1 and period.start.utcoffset()
    assert period.first.replace(day=1) < period.last.replace(day=1)
    verified = [p for p in ServicePromise.objects.filter(verified_at__gte=period.start, verified_at__lt=period.end)
                .select_related("category") if p.actual_value is not None]
    assert verified, "the demo verifies promises inside the range"
    # When the dashboard's series read it
    keep = charts.keep_rate_by_month(period=period)
    by_pair = charts.feedback_by_channel_and_kind(period=period)
    scores = charts.scores_by_month(period=period)
    lead = charts.gate_lead_times(period=period)
    # Then kept and broken per local month and category equal the raw rows'
    expected = Counter()
    for p in verified:
        expected[(_local_month(p.verified_at), p.category_id, "kept" if p.kept else "broken")] += 1
    got = Counter()
    for r in keep:
        got[(r["month"], r["category_id"], "kept")] += r["kept"]
        got[(r["month"], r["category_id"], "broken")] += r["broken"]
    assert +got == +expected
    # and the feedback per channel and kind, and CSAT / NPS per local month
    feedback = list(Feedback.objects.filter(received_at__gte=period.start, received_at__lt=period.end))
    assert feedback, "the demo records feedback inside the range"
    assert {(r["channel"], r["kind"]): r["count"] for r in by_pair} == dict(Counter((f.channel, f.kind) for f in feedback))
    months: dict[dt.date, list[Feedback]] = {}
    for f in feedback:
        months.setdefault(_local_month(f.received_at), []).append(f)
    expected_scores = {}
    for month, items in months.items():
        csat = [f.csat_score for f in items if f.csat_score is not None]
        nps = [f.nps_score for f in items if f.nps_score is not None]
        if csat or nps:
            expected_scores[month] = (
                round(sum(csat) / len(csat), 2) if csat else None, len(csat),
                round((sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) * 100 / len(nps), 1) if nps else None,
                len(nps))
    assert {r["month"]: (r["csat_average"], r["csat_responses"], r["nps"], r["nps_responses"]) for r in scores} \
        == expected_scores
    # and the gates passed in the range per gate and team, their median within the histograms' 2 %
    passed: dict[tuple, list[float]] = {}
    for g in GateReview.objects.filter(state=ReviewState.PASSED, opened_at__isnull=False,
                                       decided_at__gte=period.start, decided_at__lt=period.end):
        passed.setdefault((g.name, g.owning_team_id), []).append((g.decided_at - g.opened_at).total_seconds() / 3600)
    assert passed, "the demo passes gates inside the range"
    got_lead = {(r["gate"], r["team_id"]): r for r in lead if r["decided"]}
    assert {k: r["decided"] for k, r in got_lead.items()} == {k: len(v) for k, v in passed.items()}
    for key, hours in passed.items():
        assert got_lead[key]["median_hours"] == pytest.approx(statistics.median(hours), rel=0.021, abs=0.01)
    # And the page's totals are the same figures
    client.force_login(manager)
    response = client.get(reverse("web:dashboard"), {"date_from": period.first.isoformat(),
                                                     "date_to": period.last.isoformat()})
    totals = response.context["totals"]
    assert (totals["kept"], totals["broken"], totals["feedback"]) == (
        sum(p.kept for p in verified), sum(not p.kept for p in verified), len(feedback))
