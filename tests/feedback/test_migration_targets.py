"""The migration of the old single target of an improvement item into target rows (feedback 0003)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("feedback", "0002_creation_time_from_the_caller"), ("promises", "0006_metric_catalogue")]
AFTER = [("feedback", "0003_improvement_targets")]


@pytest.mark.django_db(transaction=True)
def test_the_old_single_target_becomes_a_target_row_on_a_catalogue_metric():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("auth", "User")
    Category = old.get_model("promises", "PromiseCategory")
    Metric = old.get_model("promises", "Metric")
    Item = old.get_model("feedback", "ImprovementItem")
    owner = User.objects.create(username="owner")
    hotline = Category.objects.create(name="Hotline", slug="hotline")
    satisfaction = Metric.objects.create(name="customer satisfaction", name_de="Kundenzufriedenheit",
                                         unit="score", direction="higher", kind="score")
    plan = {"owner": owner, "priority": "high", "start_date": dt.date(2026, 1, 5), "due_date": dt.date(2026, 6, 30),
            "budget": Decimal("100")}
    wait = Item.objects.create(title="Callback", state="checking", target_metric="mittlere Wartezeit (min)",
                               baseline_value=Decimal("2"), target_value=Decimal("1"),
                               target_deadline=dt.date(2026, 12, 31), measured_value=Decimal("1.2"),
                               measured_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), **plan)
    wait.categories.add(hotline)
    csat = Item.objects.create(title="Friendlier", state="planned", target_metric="Kundenzufriedenheit",
                               baseline_value=Decimal("3.8"), target_value=Decimal("4.3"),
                               target_deadline=dt.date(2026, 12, 31), **plan)
    Item.objects.create(title="Just an idea")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Target = new.get_model("feedback", "ImprovementTarget")
    Metric = new.get_model("promises", "Metric")

    # A metric not in the catalogue gets an entry: name and unit split, direction from 2 → 1.
    target = Target.objects.get(item_id=wait.pk)
    created = Metric.objects.get(pk=target.metric_id)
    assert (created.name, created.unit, created.direction) == ("mittlere Wartezeit", "min", "lower")
    assert (target.baseline, target.target_value, target.deadline) == (Decimal("2"), Decimal("1"),
                                                                       dt.date(2026, 12, 31))
    assert (target.measure, target.manual_value, target.reached) == ("manual", Decimal("1.2"), False)
    assert list(target.categories.values_list("slug", flat=True)) == ["hotline"]
    # A text naming a catalogue entry (here by its German name) maps onto it.
    assert Target.objects.get(item_id=csat.pk).metric_id == satisfaction.pk
    assert Target.objects.count() == 2
    assert Metric.objects.count() == 2

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
