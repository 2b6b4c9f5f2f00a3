"""The sweep: what the broker lost, the database still knows.

Events published while the broker was down, deliveries whose retry message vanished and rows held
by a worker that died are found by their timestamps and published again. Every task is
idempotent, so a row dispatched twice is still sent once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .dispatch import DELIVERY_TASK, FAN_OUT_TASK, publish_batches
from .models import Delivery, DeliveryState, OutboxEvent

logger = logging.getLogger(__name__)


def outbox_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Re-dispatch events never fanned out and deliveries whose attempt is overdue by the grace period
    or whose worker's lease ran out. Duplicates are harmless: every task is idempotent."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=float(getattr(settings, "NOTIFICATIONS_SWEEP_GRACE_SECONDS", 60)))
    event_ids = list(OutboxEvent.objects.filter(fanned_out_at__isnull=True, created_at__lte=now - grace)
                     .order_by("created_at").values_list("pk", flat=True)[:limit])
    delivery_ids = list(
        Delivery.objects.filter(Q(state=DeliveryState.PENDING, next_attempt_at__lte=now - grace)
                                | Q(state=DeliveryState.SENDING, lease_until__lte=now))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    # In batches, as the services publish: a sweep after a long outage re-dispatches thousands.
    published = publish_batches(FAN_OUT_TASK, event_ids) + publish_batches(DELIVERY_TASK, delivery_ids)
    if event_ids or delivery_ids:
        logger.info("Outbox sweep: %s events, %s deliveries re-dispatched (%s published).",
                    len(event_ids), len(delivery_ids), published)
    return {"events": len(event_ids), "deliveries": len(delivery_ids), "published": published}
