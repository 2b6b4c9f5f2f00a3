"""The check form names each target the way the item page does, in the reader's language: the German
owner reads "Von Hand gemessen: … 6 → 4 Arbeitstage, 30.06.2026", not the model's English text with an
ISO date ("… working days by 2026-06-30")."""

import datetime as dt

import pytest
from django.urls import reverse

from feedback.services import improvements as kvp
from tests.factories import catalogue_metric
from tests.web.kvp_support import item_owner, plan_input, propose  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_german_check_form_labels_a_target_in_german(client, manager, item_owner, category, propose,  # noqa: F811
                                                          django_assert_max_num_queries):
    # given an item in progress with a lead-time target
    lead_time = catalogue_metric(category, "lead time")
    item = propose(category_ids=[category.pk])
    kvp.improvement_accept(item_id=item.pk, user=manager)
    kvp.improvement_plan(item_id=item.pk, user=manager, owner=item_owner, priority="high",
                         start_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 6, 30), budget=1000,
                         targets=plan_input(lead_time, deadline=dt.date(2026, 6, 30)))
    kvp.improvement_start(item_id=item.pk, user=item_owner)
    # when its owner opens it in German
    client.force_login(item_owner)
    client.cookies["django_language"] = "de"
    with django_assert_max_num_queries(40):
        body = client.get(reverse("web:kvp-item", args=[item.pk])).content.decode()
    # then the check form's target reads in German
    assert "Von Hand gemessen: lead time (de) 6 → 4 Arbeitstage, 30.06.2026" in body
    assert "by 2026-06-30" not in body and "working days" not in body
