"""The record presales sees for a category, and the measured effect of standardized improvements,
on small datasets whose right answers are stated here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from feedback.models import Guidance
from feedback.selectors.dashboard import category_keep_rates, kvp_dashboard
from feedback.selectors.guidance import category_record
from feedback.selectors.improvements import improvement_effects
from feedback.services import improvements as fs
from feedback.services.guidance import guidance_publish
from feedback.services.targets import TargetInput
from promises import services as ps
from tests.factories import CategoryFactory, build_standard_plan
from tests.feedback.conftest import START


@pytest.fixture(autouse=True)
def quiet(settings):
    # Keep automatic proposals out of these figures' way; they are tested on their own.
    settings.KVP_EARLY_WARNING_WINDOW = 1000
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 1000


def test_category_record(kvp_clock, outcome, deliver, make_promise, seller, manager, category,
                         django_assert_max_num_queries):
    # Given one broken promise from more than a year ago (outside the 365-day window) …
    outcome(kept=False, reason="old reason", clock=kvp_clock, gate_minutes=30)
    kvp_clock.set(START + dt.timedelta(days=400))
    # … four promises in the window whose gates each took 60, 120, 240 and 600 minutes,
    outcome(kept=True, clock=kvp_clock, gate_minutes=60)
    outcome(kept=False, reason="technician unavailable", clock=kvp_clock, gate_minutes=120)
    outcome(kept=False, reason="technician unavailable", clock=kvp_clock, gate_minutes=240)
    outcome(kept=False, reason="spare part missing", clock=kvp_clock, gate_minutes=600)
    # … one submitted and one draft,
    submitted = make_promise()
    ps.promise_submit(promise_id=submitted.pk, user=seller)
    make_promise()
    # … and guidance on the category.
    guidance_publish(user=manager, category_ids=[category.pk], text="Check the roster first.")

    with django_assert_max_num_queries(5):
        record = category_record(category_id=category.pk)

    # Then: made counts the five non-draft promises created in the window; kept/broken the verified ones.
    assert (record["made"], record["kept"], record["broken"], record["keep_rate"]) == (5, 1, 3, Decimal("0.250"))
    assert [g.text for g in record["guidance"]] == ["Check the roster first."]
    # The median of 60, 120, 240, 600 minutes is 180 minutes, for each of the passed gates.
    assert [(r["gate"], r["passed"], r["median"]) for r in record["lead_times"]] == [
        ("Feasibility", 4, dt.timedelta(minutes=180)),
        ("Legal check", 4, dt.timedelta(minutes=180)),
        ("Delivery readiness", 4, dt.timedelta(minutes=180)),
    ]
    assert record["top_reasons"] == [{"reason": "technician unavailable", "count": 2},
                                     {"reason": "spare part missing", "count": 1}]

    rates = {r["category"].pk: r for r in category_keep_rates()}
    assert (rates[category.pk]["kept"], rates[category.pk]["broken"]) == (1, 3)


def test_effect_of_a_standardized_improvement(kvp_clock, deliver, seller, manager, owner_user, category, settings,
                                              django_assert_max_num_queries):
    settings.KVP_EFFECT_WINDOW_DAYS = 30
    other = CategoryFactory(name="Hotline", slug="hotline")
    build_standard_plan(other)
    standardized_at = START + dt.timedelta(days=100)

    def verified_at(when, *, kept, category=category):
        kvp_clock.set(when - dt.timedelta(days=1))
        # After standardizing, the makers acknowledge the published guidance when they submit.
        promise = deliver(category=category, acknowledged_guidance_ids=Guidance.objects.values_list("pk", flat=True))
        kvp_clock.set(when)
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3") if kept else Decimal("6"), reason="late")

    T = standardized_at
    # Before: 40 days before (outside the 30-day window, broken), then 1 kept + 3 broken inside it,
    # and one broken promise of another category (not counted).
    verified_at(T - dt.timedelta(days=40), kept=False)
    verified_at(T - dt.timedelta(days=20), kept=True)
    for days in (15, 10, 5):
        verified_at(T - dt.timedelta(days=days), kept=False)
    verified_at(T - dt.timedelta(days=3), kept=False, category=other)

    item = fs.improvement_propose(user=manager, title="Roster check", category_ids=[category.pk])
    fs.improvement_accept(item_id=item.pk, user=manager)
    fs.improvement_plan(item_id=item.pk, user=manager, owner=owner_user, priority="medium",
                        start_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1), budget=Decimal("0"),
                        targets=[TargetInput(metric_name="keep rate (%)", baseline=Decimal("25"),
                                             target_value=Decimal("75"), deadline=dt.date(2026, 6, 30))])
    fs.improvement_start(item_id=item.pk, user=manager)
    fs.improvement_check(item_id=item.pk, user=manager, measured_value=Decimal("70"))
    kvp_clock.set(T)
    fs.improvement_standardize(item_id=item.pk, user=manager, guidance_text="Check the roster.")

    # After: 3 kept + 1 broken inside the 30 days, one kept 35 days after (outside).
    for days, kept in ((2, True), (9, True), (16, False), (29, True)):
        verified_at(T + dt.timedelta(days=days), kept=kept)
    verified_at(T + dt.timedelta(days=35), kept=True)

    # the items, their categories, and the counts of every window from the day summaries
    with django_assert_max_num_queries(3):
        effects = improvement_effects(now=T + dt.timedelta(days=40))
    effect, = effects
    assert effect["item"].pk == item.pk and effect["categories"] == [category.name]
    assert effect["before"] == {"kept": 1, "broken": 3, "keep_rate": Decimal("0.250")}
    assert effect["after"] == {"kept": 3, "broken": 1, "keep_rate": Decimal("0.750")}
    assert effect["change"] == Decimal("0.500") and effect["after_window_complete"] is True
    assert improvement_effects(now=T + dt.timedelta(days=10))[0]["after_window_complete"] is False


def test_dashboard_runs_a_fixed_number_of_queries(outcome, manager, django_assert_max_num_queries):
    for kept in (True, False, True):
        outcome(kept=kept)
    with django_assert_max_num_queries(7):
        board = kvp_dashboard(user=manager)
    assert board["keep_rates"][0]["keep_rate"] == Decimal("0.667")
    assert {r["gate"] for r in board["gate_escapes"]} == {"Feasibility", "Legal check", "Delivery readiness"}
