"""Personal data in the outbox's tables (GDPR art. 15 and 17), found by e-mail address.

This app knows a customer only as an address it delivered to (a recipient without an account), so
the domain app that owns the contact (promises/personal_data.py) asks here for what was sent to it,
and to pseudonymise it: the outbox rows, deliveries and inbox items stay (they are the record that
something was sent), only the address and the texts naming the contact are replaced.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from .models import Delivery, DeliveryState, InboxItem, OutboxEvent

ERASED_ERROR = "The recipient's personal data was erased; not sent."


@dataclass(frozen=True)
class AddressRecords:
    events: QuerySet[OutboxEvent]
    deliveries: QuerySet[Delivery]


def _events_q(address: str, recipient_key: str = "") -> Q:
    # Addressed to it (by address or by the recipient's key), or quoting it anywhere in the payload.
    q = Q(pk__in=[])
    if address:
        q |= (Q(recipients__customer__email__iexact=address) | Q(recipients__icontains=address)
              | Q(payload__icontains=address))
    if recipient_key:
        q |= Q(recipients__customer__key=recipient_key)
    return q


def address_records(*, address: str, recipient_key: str = "") -> AddressRecords:
    """Everything this app holds that was addressed to `address` (or to the recipient known by
    `recipient_key`, e.g. "customer:7", whatever its address was then) or quotes it, oldest first."""
    events = OutboxEvent.objects.filter(_events_q(address, recipient_key)).order_by("created_at", "id")
    q = Q(event__in=events.values("pk"), recipient__isnull=True, webhook__isnull=True)
    if address:
        q |= Q(address__iexact=address) | Q(last_error__icontains=address)
    deliveries = Delivery.objects.filter(q).order_by("created_at", "id")
    return AddressRecords(events, deliveries)


def _replace(value, patterns: list[tuple[re.Pattern, str]]):
    if isinstance(value, str):
        for pattern, replacement in patterns:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [_replace(item, patterns) for item in value]
    if isinstance(value, dict):
        return {key: _replace(item, patterns) for key, item in value.items()}
    return value


def address_pseudonymise(*, address: str, pseudonym: str, texts: Mapping[str, str] | None = None,
                         recipient_key: str = "", now: dt.datetime | None = None) -> dict[str, int]:
    """Replace `address` by `pseudonym` in every outbox row, delivery and inbox item that holds it,
    and each of `texts` (e.g. the contact's name → its pseudonym) in the rows addressed to it.
    Deliveries to the address still waiting are failed: nobody is to be written to any more.
    Returns how many rows of each kind were changed. (`now` is accepted like every write's clock;
    the rows keep their own times, and the caller's trail records when this happened.)"""
    address_only = [(re.compile(re.escape(address), re.IGNORECASE), pseudonym)] if address else []
    everything = address_only + [(re.compile(re.escape(old), re.IGNORECASE), new)
                                 for old, new in (texts or {}).items() if old]
    changed = {"outbox_events": 0, "deliveries": 0, "inbox_items": 0}
    with transaction.atomic():
        records = address_records(address=address, recipient_key=recipient_key)
        # Fixed before the events change: a delivery is found through its event's recipients too.
        delivery_ids = list(records.deliveries.values_list("pk", flat=True))
        for event in records.events.select_for_update():
            event.payload = _replace(event.payload, everything)
            event.recipients = _replace(event.recipients, address_only)
            event.save(update_fields=["payload", "recipients"])
            changed["outbox_events"] += 1
        for delivery in Delivery.objects.select_for_update().filter(pk__in=delivery_ids).order_by("pk"):
            if delivery.state == DeliveryState.PENDING:
                delivery.fail(error=ERASED_ERROR)
            delivery.address = _replace(delivery.address, address_only)
            delivery.last_error = _replace(delivery.last_error, address_only)
            delivery.save(update_fields=["address", "last_error", "state", "lease_until"])
            changed["deliveries"] += 1
        quoting = (Q(title__icontains=address) | Q(body__icontains=address) | Q(link__icontains=address)
                   if address else Q(pk__in=[]))
        for item in InboxItem.objects.select_for_update().filter(quoting):
            item.title, item.body, item.link = (_replace(v, address_only) for v in (item.title, item.body, item.link))
            item.save(update_fields=["title", "body", "link"])
            changed["inbox_items"] += 1
    return changed
