"""SMART targets of an improvement item: planned with catalogue metrics, refused without a target or in
the wrong direction, measured by the product from its own data (with the counts), and judged reached
or not per target by its deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ValidationFailed
from feedback.error_codes import FeedbackErrorCode
from feedback.models import ImprovementItem, TargetMeasure
from feedback.selectors.targets import Scope, improvement_baseline, target_measure
from feedback.services import improvements as fs
from feedback.services.intake import feedback_record
from feedback.services.targets import TargetInput
from promises import services as ps
from promises.models import Metric
from tests.feedback.conftest import START

M = TargetMeasure
YEAR_END = dt.date(2026, 12, 31)


@pytest.fixture
def wait_metric(db, category):
    metric = Metric.objects.create(name="average wait", name_de="mittlere Wartezeit", unit="min",
                                   direction="lower", kind="count")
    metric.categories.add(category)  # the category's promises may use it
    return metric


@pytest.fixture
def csat_metric(db):
    return Metric.objects.create(name="CSAT", unit="score 1–5", direction="higher", kind="score")


@pytest.fixture
def accepted(manager, category):
    item = fs.improvement_propose(user=manager, title="Callback instead of queue", category_ids=[category.pk])
    fs.improvement_accept(item_id=item.pk, user=manager)
    return item


def two_targets(wait_metric, csat_metric, category) -> list[TargetInput]:
    return [
        TargetInput(metric=wait_metric, measure=M.MEDIAN_ACTUAL_VALUE, categories=(category,),
                    baseline=Decimal("2"), target_value=Decimal("1"), deadline=YEAR_END, window_days=60),
        TargetInput(metric=csat_metric, measure=M.CSAT_AVERAGE, categories=(category,),
                    baseline=Decimal("3.8"), target_value=Decimal("4.3"), deadline=YEAR_END, window_days=60),
    ]


def plan(item, manager, owner, targets):
    return fs.improvement_plan(item_id=item.pk, user=manager, owner=owner, priority="high",
                               start_date=dt.date(2026, 1, 5), due_date=dt.date(2026, 6, 30),
                               budget=Decimal("12000"), targets=targets)


def test_two_targets_planned_measured_by_the_product_and_judged_per_target(
        kvp_clock, accepted, manager, owner_user, category, wait_metric, csat_metric, deliver, seller, service_user):
    # Given the plan: average wait 2 → 1 min (lower is better), CSAT 3.8 → 4.3 within the year.
    plan(accepted, manager, owner_user, two_targets(wait_metric, csat_metric, category))
    fs.improvement_start(item_id=accepted.pk, user=owner_user)
    # And the product's own data: three callbacks promised "wait ≤ 1 min", verified with 0.5, 0.8 and
    # 1.4 min, one before the window (3 min, not counted); four CSAT scores 4, 4, 3, 4.
    kvp_clock.set(START + dt.timedelta(days=10))
    old = deliver(metric=wait_metric, unit="min", target_value=Decimal("1"))
    ps.promise_verify(promise_id=old.pk, user=seller, actual_value=Decimal("3"), reason="queue")
    kvp_clock.set(START + dt.timedelta(days=100))
    for actual in ("0.5", "0.8", "1.4"):
        promise = deliver(metric=wait_metric, unit="min", target_value=Decimal("1"))
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal(actual), reason="peak")
    for score in (4, 4, 3, 4):
        feedback_record(user=service_user, kind="praise", channel="survey", category=category, csat_score=score)
    feedback_record(user=service_user, kind="complaint", channel="phone", category=category, text="no score")

    # When the owner checks, typing 0.9 min by hand beside the product's measurement.
    kvp_clock.advance(days=1)
    wait, csat = accepted.targets.order_by("order")
    fs.improvement_check(item_id=accepted.pk, user=owner_user, manual_values={wait.pk: Decimal("0.9")})

    # Then each target carries the product's figure with its counts, and whether it was reached.
    wait.refresh_from_db()
    csat.refresh_from_db()
    assert (wait.product_value, wait.product_counts, wait.manual_value) == (Decimal("0.8"), {"verified": 3},
                                                                              Decimal("0.9"))
    assert wait.reached is True  # 0.8 min ≤ 1 min, lower is better
    assert (csat.product_value, csat.product_counts, csat.manual_value) == (Decimal("3.75"), {"responses": 4}, None)
    assert csat.reached is False  # 3.75 < 4.3, higher is better
    assert wait.window_end == kvp_clock.current and wait.window_start == kvp_clock.current - dt.timedelta(days=60)
    item = ImprovementItem.objects.get(pk=accepted.pk)
    assert item.state == "checking" and item.target_met is False
    assert item.target_text == ("average wait 2 → 1 min by 2026-12-31; CSAT 3.8 → 4.3 score 1–5 by 2026-12-31")


def test_a_check_after_the_deadline_measures_up_to_the_deadline(
        kvp_clock, accepted, manager, owner_user, category, wait_metric, csat_metric, service_user):
    targets = [replace(t, deadline=dt.date(2026, 3, 31)) for t in two_targets(wait_metric, csat_metric, category)]
    plan(accepted, manager, owner_user, targets)
    fs.improvement_start(item_id=accepted.pk, user=owner_user)
    kvp_clock.set(dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC))
    feedback_record(user=service_user, kind="praise", channel="survey", category=category, csat_score=5)
    # Scores given after the deadline do not count towards reaching it.
    kvp_clock.set(dt.datetime(2026, 4, 20, 10, 0, tzinfo=dt.UTC))
    feedback_record(user=service_user, kind="complaint", channel="survey", category=category, csat_score=1)
    fs.improvement_check(item_id=accepted.pk, user=owner_user)
    csat = accepted.targets.get(metric=csat_metric)
    assert (csat.product_value, csat.product_counts, csat.reached) == (Decimal("5"), {"responses": 1}, True)
    assert timezone.localtime(csat.window_end) == dt.datetime(2026, 4, 1, tzinfo=timezone.get_current_timezone())
    wait = accepted.targets.get(metric=wait_metric)
    assert (wait.product_value, wait.product_counts, wait.reached) == (None, {"verified": 0}, None)


def test_the_plan_is_refused_without_targets(accepted, manager, owner_user):
    with pytest.raises(ValidationFailed) as exc:
        plan(accepted, manager, owner_user, [])
    assert exc.value.code == FeedbackErrorCode.TARGETS_REQUIRED == "targets_required"
    assert set(exc.value.fields) == {"targets"}
    accepted.refresh_from_db()
    assert accepted.state == "accepted" and not accepted.targets.exists()


def test_a_target_in_the_wrong_direction_is_refused(accepted, manager, owner_user, category, wait_metric,
                                                    csat_metric):
    wait, csat = two_targets(wait_metric, csat_metric, category)
    with pytest.raises(ValidationFailed, match="direction") as exc:
        plan(accepted, manager, owner_user, [wait, replace(csat, target_value=Decimal("3.5"))])
    assert exc.value.code == FeedbackErrorCode.TARGET_WRONG_DIRECTION == "target_wrong_direction"
    assert exc.value.fields == {"targets[1].target_value":
                                "must improve on the baseline in the metric's direction (higher is better)"}
    with pytest.raises(ValidationFailed) as exc:
        plan(accepted, manager, owner_user, [replace(wait, unit="h")])
    assert exc.value.code == FeedbackErrorCode.UNIT_NOT_METRICS
    assert set(exc.value.fields) == {"targets[0].unit"}
    assert not accepted.targets.exists()


def test_the_product_measures_keep_rate_counts_and_lead_time(kvp_clock, category, outcome, service_user,
                                                             wait_metric, django_assert_max_num_queries):
    for kept in (True, True, True, False):
        outcome(kept=kept, clock=kvp_clock, gate_minutes=60)
    feedback_record(user=service_user, kind="complaint", channel="phone", category=category, nps_score=3)
    feedback_record(user=service_user, kind="complaint", channel="email", category=category, nps_score=7)
    start, end = START - dt.timedelta(days=1), kvp_clock.current + dt.timedelta(minutes=1)
    scope = Scope(category_ids=(category.pk,))

    def measure(measure, scope=scope):
        with django_assert_max_num_queries(4):
            return target_measure(measure=measure, metric=wait_metric, scope=scope, window_start=start,
                                  window_end=end)

    keep = measure(M.KEEP_RATE)
    assert (keep.value, keep.counts) == (Decimal("75.0"), {"verified": 4, "kept": 3, "broken": 1})
    assert measure(M.NPS_AVERAGE).value == Decimal("5")
    phone = measure(M.FEEDBACK_COUNT, replace(scope, feedback_kind="complaint", channel="phone"))
    # The broken promise's own feedback came from the system, not the phone.
    assert (phone.value, phone.counts) == (Decimal("1"), {"feedback": 1})
    definition = category.gate_plans.get().definitions.order_by("order").first()
    lead = measure(M.MEDIAN_GATE_LEAD_TIME, replace(scope, gate_definition=definition))
    assert (lead.value, lead.counts) == (Decimal("1"), {"passed": 4})  # one working hour each (Monday 9:00 on)


def test_a_baseline_is_proposed_from_the_same_measurement(kvp_clock, category, service_user, csat_metric):
    for score in (3, 4):
        feedback_record(user=service_user, kind="praise", channel="survey", category=category, csat_score=score)
    kvp_clock.advance(hours=1)
    proposed = improvement_baseline(measure=M.CSAT_AVERAGE, metric=csat_metric,
                                    scope=Scope(category_ids=(category.pk,)), window_days=30)
    assert (proposed.value, proposed.counts) == (Decimal("3.5"), {"responses": 2})
    with pytest.raises(ValidationFailed) as exc:
        improvement_baseline(measure=M.CSAT_AVERAGE, metric=csat_metric, scope=Scope(), window_days=30,
                             until=kvp_clock.current + dt.timedelta(days=1))
    assert exc.value.code == FeedbackErrorCode.MEASUREMENT_WINDOW_IN_FUTURE == "measurement_window_in_future"
