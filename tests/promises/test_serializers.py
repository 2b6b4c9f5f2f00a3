"""A promise's request bodies are parsed once, into typed values (instances, decimals, dates):
what is not the right shape is refused here, naming the field. The model's and the lifecycle's
rules are the services' (tests/qualitygates/test_rules.py, test_lifecycle.py)."""

from __future__ import annotations

import datetime as dt
import inspect
from decimal import Decimal

import pytest

from promises import services as ps
from promises.serializers import (
    PromiseUpdateSerializer,
    PromiseWriteSerializer,
    SubmitSerializer,
    VerifySerializer,
)
from tests.factories import catalogue_metric

pytestmark = pytest.mark.django_db


def body(category_, customer_, **overrides) -> dict:
    return {"title": "Technician within 4 h", "category": category_.pk, "customer": customer_.pk,
            "origin_department": "sales", "channel": "contract", "metric": catalogue_metric(category_).pk,
            "comparison": "lte",
            "target_value": "4", "unit": "h", "due_date": "2027-03-31", **overrides}


def test_a_promise_body_becomes_instances_decimals_and_dates(category, customer):
    serializer = PromiseWriteSerializer(data=body(category, customer, deal_value="1200.50"))
    assert serializer.is_valid(), serializer.errors
    data = serializer.validated_data
    assert (data["category"], data["customer"]) == (category, customer)
    assert (data["target_value"], data["deal_value"], data["due_date"]) == (
        Decimal("4"), Decimal("1200.50"), dt.date(2027, 3, 31))


@pytest.mark.parametrize("bad", [{"category": "on-site-service"}, {"target_value": "four"},
                                 {"due_date": "31.03.2027"}, {"category": 2**64}, {"title": 42},
                                 {"description": ["Liability"]}])
def test_a_malformed_promise_body_is_refused(category, customer, bad):
    serializer = PromiseWriteSerializer(data=body(category, customer, **bad))
    assert not serializer.is_valid()
    assert set(bad) <= set(serializer.errors)


def test_an_edit_is_parsed_into_the_fields_given(category):
    serializer = PromiseUpdateSerializer(data={"category": category.pk, "deal_value": None}, partial=True)
    assert serializer.is_valid(), serializer.errors
    assert ps.PromiseChanges(**serializer.validated_data).changed() == {"category": category, "deal_value": None}


def test_the_editable_fields_are_one_list():
    """The update serializer, the PromiseChanges the service takes and the admin's form share EDITABLE_FIELDS."""
    assert list(PromiseUpdateSerializer().fields) == list(ps.EDITABLE_FIELDS)
    assert "changes" in inspect.signature(ps.promise_update).parameters


@pytest.mark.parametrize("actual", ["four", "NaN", "Infinity", None, [4]])
def test_verify_needs_a_finite_number(actual):
    serializer = VerifySerializer(data={"actual_value": actual})
    assert not serializer.is_valid()
    assert "actual_value" in serializer.errors


@pytest.mark.parametrize("payload", [{"comment": 5}, {"acknowledged_guidance_ids": ["x"]},
                                     {"acknowledged_guidance_ids": 3}])
def test_a_malformed_submit_body_is_refused(payload):
    assert not SubmitSerializer(data=payload).is_valid()
