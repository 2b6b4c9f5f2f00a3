"""Early warning: a category breaking too many of its last N promises proposes an improvement, once."""

from __future__ import annotations

import pytest

from feedback.models import ImprovementItem, ImprovementOrigin
from feedback.services import improvements as fs
from notifications.models import EventKind, OutboxEvent


@pytest.fixture(autouse=True)
def small_window(settings):
    settings.KVP_EARLY_WARNING_WINDOW = 5
    settings.KVP_EARLY_WARNING_THRESHOLD = "0.20"
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 1000  # keep gate escapes out of this test


def warnings():
    return ImprovementItem.objects.filter(origin=ImprovementOrigin.EARLY_WARNING)


def test_early_warning_fires_once_while_open(outcome, manager, category):
    for _ in range(4):
        outcome(kept=True)
    outcome(kept=False)
    # 1 broken of the last 5 is 20%: at the threshold, not past it.
    assert not warnings().exists()

    outcome(kept=False)
    # Now 2 of the last 5 (kept, kept, kept, broken, broken): 40%.
    item = warnings().get()
    assert item.origin_category == category and item.state == "proposed"
    assert list(item.categories.all()) == [category]
    assert item.feedback.count() == 2
    assert "broke 2 of its last 5" in item.title
    event = OutboxEvent.objects.get(kind=EventKind.EARLY_WARNING)
    assert event.payload["improvement"] == item.pk
    assert (event.payload["broken"], event.payload["window"], event.payload["break_rate"]) == (2, 5, "0.400")

    outcome(kept=False)
    outcome(kept=False)
    assert warnings().count() == 1
    assert OutboxEvent.objects.filter(kind=EventKind.EARLY_WARNING).count() == 1

    # Once the proposal is closed, a still-high break rate warns again.
    fs.improvement_reject(item_id=item.pk, user=manager, comment="seasonal, known")
    outcome(kept=False)
    assert warnings().count() == 2
    assert OutboxEvent.objects.filter(kind=EventKind.EARLY_WARNING).count() == 2


def test_no_warning_before_the_window_is_full(outcome):
    for _ in range(4):
        outcome(kept=False)
    assert not warnings().exists()


def test_the_database_allows_one_open_warning_per_category(category):
    # The category lock serialises the checks; this index is the backstop if a code path ever skips it.
    from django.db import IntegrityError, transaction

    ImprovementItem.objects.create(title="a", origin=ImprovementOrigin.EARLY_WARNING, origin_category=category)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImprovementItem.objects.create(title="b", origin=ImprovementOrigin.EARLY_WARNING, origin_category=category)
