"""The migration of free-text metrics onto the catalogue, on a copy of the demo data.

The demo is seeded, the database is taken back to the migration before (promises 0006: metric and
unit as text, the catalogue's rows removed, the second on-site spec's unit as the old demo wrote
it), then migrated forward. Every promise must end on a catalogue entry of its text's name and
unit, attached to its category, with the direction its comparisons point to. All of it runs in
the test's transaction (PostgreSQL alters tables transactionally), so the schema is back afterwards.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from promises.models import Metric, ServicePromise

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BEFORE = [("promises", "0006_metric_catalogue")]
AFTER = [("promises", "0007_promise_metric_from_catalogue")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_free_text_metrics_of_the_demo_map_onto_catalogue_entries():
    call_command("seed_demo", stdout=StringIO())
    states = dict(ServicePromise.objects.values_list("id", "state"))
    # The seeded rows' deferred foreign-key checks run now, so the migrations may alter the tables.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    # Given the demo as it was before the catalogue: metric and unit as text, no catalogue
    old = _migrate(BEFORE)
    OldPromise, OldMetric = old.get_model("promises", "ServicePromise"), old.get_model("promises", "Metric")
    OldPromise.objects.filter(title__startswith="Vor-Ort-Service am nächsten Werktag").update(
        unit="working hours")
    OldMetric.categories.through.objects.all().delete()
    # the demo's improvement targets use catalogue metrics too: only the promises' metrics are cleared
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT metric_id FROM feedback_improvementtarget")
        kept_for_targets = [row[0] for row in cursor.fetchall()]
    OldMetric.objects.exclude(pk__in=kept_for_targets).delete()
    before = {p["id"]: p for p in OldPromise.objects.values("id", "metric", "unit", "category_id", "comparison")}
    pairs = {(p["metric"], p["unit"]) for p in before.values()}
    assert len(before) == len(states) and ("response time", "working hours") in pairs

    # When the migration runs (and the later ones, so that today's models read the tables)
    _migrate(AFTER)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # Then there is one entry per (metric, unit) pair, and every promise uses the one of its text
    assert Metric.objects.filter(promises__isnull=False).distinct().count() == len(pairs)
    for promise in ServicePromise.objects.select_related("metric"):
        was = before[promise.pk]
        assert promise.metric.name in (was["metric"], f"{was['metric']} ({was['unit']})")
        assert promise.metric.unit == was["unit"]
        assert promise.metric.categories.filter(pk=was["category_id"]).exists()
        assert promise.metric.allows(was["comparison"])
        assert promise.state == states[promise.pk]
    assert set(Metric.objects.filter(name__startswith="response time").values_list("unit", flat=True)) == {
        "h", "working hours"}
    directions = dict(Metric.objects.values_list("name", "direction"))
    assert directions["availability"] == directions["visits per year"] == "higher"
    assert directions["response time"] == directions["lead time"] == directions["downtime"] == "lower"
    assert dict(Metric.objects.values_list("name", "kind"))["availability"] == "percentage"
