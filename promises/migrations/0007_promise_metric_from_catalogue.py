"""A promise's metric becomes a catalogue entry: the free-text metric and unit of every existing
promise are mapped onto the catalogue.

Each distinct (metric, unit) pair becomes one entry (an entry of that name and unit already kept
is reused), attached to the categories whose promises use it. Its direction is inferred from the
comparisons those promises make: more "at least" than "at most" means higher is better, otherwise
lower is better ("exactly" says nothing). Its kind is guessed from the unit; a manager corrects it
in the admin. Two units of the same name become two entries: the one more promises use keeps the
name, the other is named with its unit.

Backwards, the promise gets the entry's English name and unit as text again.
"""

from collections import Counter

from django.db import migrations, models

KIND_BY_UNIT = {
    "h": "working_hours", "hours": "working_hours", "working hours": "working_hours", "std": "working_hours",
    "min": "working_hours", "s": "working_hours",
    "d": "calendar_days", "days": "calendar_days", "working days": "calendar_days", "tage": "calendar_days",
    "werktage": "calendar_days", "arbeitstage": "calendar_days",
    "%": "percentage", "eur": "money", "€": "money", "usd": "money",
}


def _kind(unit: str) -> str:
    return KIND_BY_UNIT.get(unit.strip().lower(), "count")


def map_free_text_onto_catalogue(apps, schema_editor):
    Metric = apps.get_model("promises", "Metric")
    ServicePromise = apps.get_model("promises", "ServicePromise")
    rows = ServicePromise.objects.order_by("id").values_list("id", "category_id", "metric_text", "unit_text",
                                                           "comparison")
    pairs: dict[tuple[str, str], dict] = {}
    for promise_id, category_id, name, unit, comparison in rows:
        pair = pairs.setdefault((name.strip(), unit.strip()), {"ids": [], "categories": set(), "votes": Counter()})
        pair["ids"].append(promise_id)
        pair["categories"].add(category_id)
        pair["votes"][comparison] += 1
    # The pair most promises use keeps the plain name when one name comes with several units.
    for (name, unit), pair in sorted(pairs.items(), key=lambda item: -len(item[1]["ids"])):
        metric = Metric.objects.filter(name=name, unit=unit).first()
        if metric is None:
            taken = Metric.objects.filter(name=name).exists()
            direction = "higher" if pair["votes"]["gte"] > pair["votes"]["lte"] else "lower"
            metric = Metric.objects.create(name=f"{name} ({unit})"[:120] if taken else name, unit=unit,
                                           direction=direction, kind=_kind(unit))
        metric.categories.add(*pair["categories"])
        ServicePromise.objects.filter(id__in=pair["ids"]).update(metric=metric)
    _check_constraints_now(schema_editor)


def _check_constraints_now(schema_editor):
    # The rows' deferred foreign-key checks run now, so the table can be altered in this migration.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def catalogue_back_to_free_text(apps, schema_editor):
    ServicePromise = apps.get_model("promises", "ServicePromise")
    for promise in ServicePromise.objects.select_related("metric").only("id", "metric__name", "metric__unit"):
        ServicePromise.objects.filter(id=promise.id).update(metric_text=promise.metric.name[:120],
                                                              unit_text=promise.metric.unit)
    _check_constraints_now(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("promises", "0006_metric_catalogue"),
    ]

    operations = [
        migrations.RenameField("servicepromise", "metric", "metric_text"),
        migrations.RenameField("servicepromise", "unit", "unit_text"),
        migrations.AlterField("servicepromise", "metric_text", models.CharField(max_length=120, default="")),
        migrations.AlterField("servicepromise", "unit_text", models.CharField(max_length=30, default="")),
        migrations.AddField(
            model_name="servicepromise",
            name="metric",
            field=models.ForeignKey(null=True, on_delete=models.deletion.PROTECT, related_name="promises",
                                    to="promises.metric", verbose_name="metric"),
        ),
        migrations.RunPython(map_free_text_onto_catalogue, catalogue_back_to_free_text),
        migrations.AlterField(
            model_name="servicepromise",
            name="metric",
            field=models.ForeignKey(help_text="From the catalogue of the promise's category.",
                                    on_delete=models.deletion.PROTECT, related_name="promises",
                                    to="promises.metric", verbose_name="metric"),
        ),
        migrations.RemoveField("servicepromise", "metric_text"),
        migrations.RemoveField("servicepromise", "unit_text"),
    ]
