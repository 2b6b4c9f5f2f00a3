"""The migration to links issued at commitment: links of promises already given to the customer keep
working; promises not yet committed lose theirs (nobody outside was meant to have them)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("promises", "0005_creation_time_from_the_caller")
AFTER = ("promises", "0006_status_link_at_commitment_and_personal_data_log")


@pytest.mark.django_db(transaction=True)
def test_links_of_committed_promises_survive_and_earlier_ones_are_cleared():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        apps = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
        User = apps.get_model("auth", "User")
        Category = apps.get_model("promises", "PromiseCategory")
        Promise = apps.get_model("promises", "ServicePromise")
        Trail = apps.get_model("promises", "TransitionLog")
        owner = User.objects.create(username="owner")
        category = Category.objects.create(name="Service", slug="service")

        def promise(state: str, token: str, *, committed_before: bool = False):
            row = Promise.objects.create(title=state, category=category, customer_segment="SME",
                                         origin_department="sales", channel="offer", metric="m",
                                         target_value=1, unit="h", due_date=dt.date(2027, 1, 1), owner=owner,
                                         state=state, status_token=token)
            if committed_before:
                Trail.objects.create(promise=row, action="commit", from_state="approved", to_state="committed")
            return row.pk

        kept = {promise("committed", "t-committed"), promise("closed", "t-closed"),
                promise("rework", "t-rework-after-commit", committed_before=True)}
        cleared = {promise("draft", "t-draft"), promise("in_review", "t-review"), promise("approved", "t-approved"),
                   promise("withdrawn", "t-withdrawn")}

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        apps = executor.loader.project_state([AFTER]).apps
        tokens = dict(apps.get_model("promises", "ServicePromise").objects.values_list("pk", "status_token"))
        assert all(tokens[pk] for pk in kept)
        assert {tokens[pk] for pk in cleared} == {None}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
