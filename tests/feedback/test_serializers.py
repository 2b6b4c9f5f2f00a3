"""The KVP input is parsed once, by the serializers: wrong types and unknown ids are refused there
with the field named, and what passes reaches the services as typed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from feedback.forms import CustomerRatingForm
from feedback.models import FeedbackChannel, FeedbackKind, Severity
from feedback.serializers import (
    FeedbackLinks,
    FeedbackWriteSerializer,
    PlanSerializer,
    ProposeSerializer,
)
from tests.factories import UserFactory


def test_feedback_is_parsed_into_instances_and_enums(category, customer, django_assert_max_num_queries):
    serializer = FeedbackWriteSerializer(data={
        "kind": "complaint", "channel": "phone", "category": str(category.pk), "customer": customer.pk,
        "csat_score": "2", "text": " late ", "received_at": "2026-03-01"})
    with django_assert_max_num_queries(3):
        assert serializer.is_valid(), serializer.errors
    data = serializer.validated_data
    assert (data["kind"], data["channel"], data["severity"]) == (
        FeedbackKind.COMPLAINT, FeedbackChannel.PHONE, Severity.MEDIUM)
    assert isinstance(data["kind"], FeedbackKind)
    assert (data["category"], data["customer"], data["promise"]) == (category, customer, None)
    assert (data["csat_score"], data["text"]) == (2, "late")
    # A bare date is noon of that day.
    assert data["received_at"].date() == dt.date(2026, 3, 1) and data["received_at"].hour == 12


@pytest.mark.parametrize(("field", "value"), [
    ("csat_score", 0), ("csat_score", 6), ("csat_score", "4.5"), ("csat_score", "four"), ("csat_score", True),
    ("nps_score", -1), ("nps_score", 11), ("nps_score", "NaN"), ("kind", 3), ("channel", ["phone"]),
    ("severity", {}), ("received_at", "not-a-date"), ("external_reference", "x" * 101),
])
def test_values_of_the_wrong_type_or_range_are_refused(category, field, value):
    serializer = FeedbackWriteSerializer(data={"kind": "complaint", "channel": "email", "category": category.pk,
                                               "text": "x", field: value})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {field}


def test_unknown_and_malformed_ids_name_the_field(db):
    serializer = FeedbackWriteSerializer(data={"kind": "complaint", "channel": "chat", "promise": 987654,
                                               "category": 987655, "customer": 987656, "text": "x"})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"promise", "category", "customer"}
    assert "Category 987655 does not exist." in serializer.errors["category"]
    serializer = FeedbackWriteSerializer(data={"kind": "complaint", "channel": "chat", "promise": "abc",
                                               "category": "x", "customer": -1, "text": "x"})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"promise", "category", "customer"}


def test_links_loaded_in_advance_cost_no_query(category, django_assert_num_queries):
    links = FeedbackLinks(categories={category.pk: category})
    serializer = FeedbackWriteSerializer(data={"kind": "praise", "channel": "chat", "category": category.pk,
                                               "text": "x"}, context={"links": links})
    with django_assert_num_queries(0):
        assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["category"] == category


@pytest.mark.parametrize(("posted", "valid"), [
    ({"kept_as_seen": "yes", "csat_score": "4"}, True), ({"kept_as_seen": "no", "csat_score": "1"}, True),
    ({"kept_as_seen": "maybe", "csat_score": "4"}, False), ({"kept_as_seen": "yes", "csat_score": "9"}, False),
    ({"kept_as_seen": "yes"}, False), ({"kept_as_seen": "yes", "csat_score": "4", "text": "x" * 2001}, False),
])
def test_the_customer_rating_form(posted, valid):
    assert CustomerRatingForm(data=posted).is_valid() is valid


def test_the_rating_form_gives_typed_values_and_names_the_field_in_error():
    form = CustomerRatingForm(data={"kept_as_seen": "no", "csat_score": "2", "text": "  Late.  "})
    assert form.is_valid() and form.cleaned_data == {"kept_as_seen": False, "csat_score": 2, "text": "Late."}
    form = CustomerRatingForm(data={"kept_as_seen": "yes", "csat_score": "9"})
    assert not form.is_valid() and list(form.errors) == ["csat_score"]


def test_a_plan_names_an_active_owner_and_typed_values(db):
    owner, gone = UserFactory(username="owner"), UserFactory(username="gone", is_active=False)
    plan = {"owner": owner.pk, "priority": "high", "start_date": "2026-02-01", "due_date": "2026-06-30",
            "budget": "100.00", "target_metric": "wait (min)", "baseline_value": "2", "target_value": "1",
            "target_deadline": "2027-06-30"}
    serializer = PlanSerializer(data=plan)
    assert serializer.is_valid(), serializer.errors
    data = serializer.validated_data
    assert (data["owner"], data["priority"], data["budget"], data["start_date"]) == (
        owner, Severity.HIGH, Decimal("100.00"), dt.date(2026, 2, 1))
    serializer = PlanSerializer(data={**plan, "owner": gone.pk, "priority": "urgent", "budget": "-1",
                                      "target_deadline": None, "baseline_value": "two"})
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"owner", "priority", "budget", "target_deadline", "baseline_value"}


def test_link_ids_are_whole_numbers():
    assert not ProposeSerializer(data={"title": "x", "feedback": ["x"]}).is_valid()
    assert not ProposeSerializer(data={"title": "x", "categories": [0]}).is_valid()
