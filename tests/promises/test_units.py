"""A worded unit reads in the reader's language: "10 Arbeitstage" on German pages and for a German
customer, "10 working days" in English; symbols (h, %) stay as they are; the stored unit is unchanged."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from promises.customer_view import customer_commitment
from promises.units import unit_label
from tests.factories import catalogue_metric

pytestmark = pytest.mark.django_db


def test_worded_units_are_translated_and_symbols_stay():
    with translation.override("de"):
        assert unit_label("working days") == "Arbeitstage" and unit_label("visits") == "Besuche"
        assert unit_label("h") == "h" and unit_label("%") == "%" and unit_label("Paletten") == "Paletten"
    with translation.override("en"):
        assert unit_label("working days") == "working days"


def test_a_lead_time_promise_reads_in_german_on_its_page_and_for_the_customer(
        client, seller, category, make_promise, django_assert_max_num_queries):
    # given a promise of at most 10 working days
    lead_time = catalogue_metric(category, "lead time")
    promise = make_promise(metric=lead_time, target_value=Decimal("10"))
    # when it is read in German
    with translation.override("de"):
        commitment = customer_commitment(promise)
        metric_choice = str(lead_time)
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    with django_assert_max_num_queries(40):
        body = client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()
    # then the unit is German everywhere, and stored as it was
    assert commitment == "lead time (de) ≤ 10 Arbeitstage" and metric_choice == "lead time (de) (Arbeitstage)"
    assert "≤ 10 Arbeitstage" in body and "working days" not in body
    lead_time.refresh_from_db()
    assert lead_time.unit == "working days" and promise.unit == "working days"
