"""Fill the read summaries for the rows that exist (on PostgreSQL; `manage.py kvp_summaries --fix` does
the same at any time). On the embedded SQLite default the selectors read the raw rows instead."""

from django.db import migrations


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from feedback.summaries_check import summaries_rebuild

    summaries_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_feedback_month_summary"),
        ("promises", "0010_read_summaries_and_list_indexes"),
        ("qualitygates", "0004_gate_summaries_and_open_queue_index"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
