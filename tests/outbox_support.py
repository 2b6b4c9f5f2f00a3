"""The outbox drained the way a worker drains it, step by step in the test's thread."""

from __future__ import annotations

from notifications import services
from notifications.delivery import delivery_send
from notifications.models import Delivery, DeliveryState, OutboxEvent


def drain(now=None) -> None:
    """Fan out every recorded event, then send every delivery that is due."""
    for event_id in OutboxEvent.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True):
        services.event_fan_out(event_id=event_id, now=now)
    for delivery_id in Delivery.objects.filter(state=DeliveryState.PENDING).values_list("pk", flat=True):
        delivery_send(delivery_id=delivery_id, now=now)
