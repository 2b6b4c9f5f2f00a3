"""The outbox's copies of a customer's address (notifications/privacy.py): found by address or by the
recipient's key, and pseudonymised in place; what was still to be sent to it is not sent."""

from __future__ import annotations

import pytest
from django.db import transaction

from notifications import services
from notifications.models import Delivery, DeliveryState, EventKind, OutboxEvent
from notifications.privacy import ERASED_ERROR, address_pseudonymise, address_records
from notifications.recipients import CustomerAddress, Recipients

ADDRESS = "Max.Muster@kunde.example"


def customer_event(email: str, key: str, name: str) -> OutboxEvent:
    with transaction.atomic():
        event, _ = services.event_record(
            kind=EventKind.INTERIM_NOTICE_DUE, subject="promise:1",
            recipients=Recipients(customer=CustomerAddress(key=key, email=email, language="de")),
            payload={"title": "Technician on site", "customer_name": name, "customer_link": "/status/abc/"})
    services.event_fan_out(event_id=event.pk)
    return event


@pytest.mark.django_db
def test_records_are_found_by_address_in_any_case_and_by_recipient_key():
    mine = customer_event(ADDRESS, "customer:1", "Max Muster")
    customer_event("other@kunde.example", "customer:2", "Other GmbH")
    by_address = address_records(address=ADDRESS.upper())
    assert list(by_address.events) == [mine]
    assert [d.address for d in by_address.deliveries] == [ADDRESS]
    assert list(address_records(address="", recipient_key="customer:1").events) == [mine]


@pytest.mark.django_db
def test_pseudonymise_replaces_the_address_and_name_and_fails_what_was_waiting():
    mine = customer_event(ADDRESS, "customer:1", "Max Muster")
    other = customer_event("other@kunde.example", "customer:2", "Other GmbH")
    changed = address_pseudonymise(address=ADDRESS.lower(), pseudonym="erased-1@erased.invalid",
                                   texts={"Max Muster": "erased-1"}, recipient_key="customer:1")
    assert changed == {"outbox_events": 1, "deliveries": 1, "inbox_items": 0}
    mine.refresh_from_db()
    assert mine.recipients["customer"]["email"] == "erased-1@erased.invalid"
    assert mine.payload["customer_name"] == "erased-1"
    delivery = Delivery.objects.get(event=mine)
    assert (delivery.address, delivery.state, delivery.last_error) == (
        "erased-1@erased.invalid", DeliveryState.FAILED, ERASED_ERROR)
    # another customer's rows are untouched and still go out
    other.refresh_from_db()
    assert other.payload["customer_name"] == "Other GmbH"
    assert Delivery.objects.get(event=other).state == DeliveryState.PENDING
