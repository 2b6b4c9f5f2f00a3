"""Gate escapes: per gate, the share of promises that passed it and still broke."""

from __future__ import annotations

from decimal import Decimal

import pytest

from feedback.models import ImprovementItem, ImprovementOrigin
from feedback.selectors.signals import gate_escapes
from notifications.models import EventKind, OutboxEvent
from qualitygates import services as gs
from qualitygates.models import GateReview, ReviewState
from tests.factories import all_checks_met


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.KVP_GATE_ESCAPE_THRESHOLD = "0.25"
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 5
    settings.KVP_EARLY_WARNING_WINDOW = 1000  # keep early warnings out of this test


def escapes_by_gate():
    return {row["gate"]: row for row in gate_escapes()}


def test_escape_figures_and_flag(outcome, deliver, service_user, django_assert_max_num_queries):
    for _ in range(3):
        outcome(kept=True)
    broken = outcome(kept=False, reason="no spare part")
    deliver()  # passed its approval and delivery gates, not verified yet

    rows = escapes_by_gate()
    assert set(rows) == {"Feasibility", "Legal check", "Delivery readiness"}  # closure gates have no escapes
    row = rows["Feasibility"]
    assert (row["passed"], row["verified"], row["escaped"], row["escape_rate"]) == (5, 4, 1, Decimal("0.250"))
    assert row["top_reasons"] == [{"reason": "no spare part", "count": 1}]
    assert not row["flagged"]  # too few verified promises yet, and not past the threshold
    assert not ImprovementItem.objects.filter(origin=ImprovementOrigin.GATE_ESCAPE).exists()

    # The closure gate of a broken promise is decided after the outcome is known: never an escape.
    review = GateReview.objects.get(promise=broken, state=ReviewState.OPEN)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))

    outcome(kept=False, reason="technician ill")
    with django_assert_max_num_queries(2):
        rows = escapes_by_gate()
    row = rows["Legal check"]
    assert (row["passed"], row["verified"], row["escaped"], row["escape_rate"]) == (6, 5, 2, Decimal("0.400"))
    assert row["top_reasons"] == [{"reason": "no spare part", "count": 1}, {"reason": "technician ill", "count": 1}]
    assert row["flagged"]

    flagged = ImprovementItem.objects.filter(origin=ImprovementOrigin.GATE_ESCAPE)
    assert set(flagged.values_list("origin_definition__name", flat=True)) == {
        "Feasibility", "Legal check", "Delivery readiness"}
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_ESCAPE_FLAGGED).count() == 3
    item = flagged.get(origin_definition__name="Legal check")
    assert list(item.gate_definitions.values_list("name", flat=True)) == ["Legal check"]

    # Flagged once while the proposal is open.
    outcome(kept=False, reason="technician ill")
    assert flagged.count() == 3
