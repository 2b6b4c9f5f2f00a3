"""CustomerNotice moves here from the notifications app: it is part of a promise's customer timeline.
The model is taken over with its table (notifications/migrations/0005 dropped it from that app's
state only), then the table is renamed to this app's name; every row is kept."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("promises", "0003_promise_verified_at_index"),
        ("notifications", "0005_domain_neutral_references"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name="CustomerNotice",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                               verbose_name="ID")),
                    ("kind", models.CharField(choices=[("interim", "Interim notice")], default="interim",
                                              max_length=20)),
                    ("email", models.EmailField(max_length=254)),
                    ("language", models.CharField(max_length=8)),
                    ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ("event", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT,
                                                   related_name="customer_notice",
                                                   to="notifications.outboxevent")),
                    ("promise", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="customer_notices",
                                                  to="promises.servicepromise")),
                ],
                options={
                    "verbose_name": "customer notice",
                    "verbose_name_plural": "customer notices",
                    "ordering": ["created_at", "id"],
                    "db_table": "notifications_customernotice",
                },
            ),
        ]),
        migrations.AlterModelTable(name="customernotice", table=None),
    ]
