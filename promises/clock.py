"""The customer's clock: an interim notice to each customer whose committed promise has had no
visible update for its category's interim-notice days, and when the customer hears from us next.

Beat runs it (promises/tasks.py); the status page shows the notices sent and the next update.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import EventKind

from .events import promise_event_record
from .models import CustomerNotice, PromiseCategory, PromiseState, ServicePromise

S = PromiseState


def _waiting_states_q() -> Q:
    # On hold after commitment: the customer already has the promise and waits for news.
    return Q(state__in=[S.COMMITTED, S.IN_DELIVERY]) | (Q(state=S.ON_HOLD) & ~Q(state_before_hold=S.IN_REVIEW))


def promise_ids_needing_interim_notice(*, now: dt.datetime) -> list[int]:
    days = set(PromiseCategory.objects.values_list("interim_notice_days", flat=True).distinct())
    if not days:
        return []
    silent = Q()
    for n in days:
        silent |= Q(category__interim_notice_days=n, customer_visible_at__lte=now - dt.timedelta(days=n))
    # A notice carries the status link: without a current one (revoked, not yet re-issued) none is sent.
    return list(ServicePromise.objects.filter(_waiting_states_q(), silent, customer__isnull=False,
                                              status_token__isnull=False)
                .exclude(customer__email="").order_by("customer_visible_at").values_list("pk", flat=True))


def _needs_interim_notice(promise: ServicePromise, *, now: dt.datetime) -> bool:
    return (ServicePromise.objects.filter(_waiting_states_q(), pk=promise.pk).exists()
            and promise.customer_id is not None and bool(promise.customer.email) and bool(promise.status_token)
            and promise.customer_visible_at <= now - dt.timedelta(days=promise.category.interim_notice_days))


def interim_notices_send(*, now: dt.datetime | None = None) -> int:
    """Tell each customer whose committed promise has been silent too long that we are still on it,
    with the status link. The notice is part of the customer's timeline: it is recorded and moves
    `customer_visible_at`."""
    now = now or timezone.now()
    sent = 0
    for promise_id in promise_ids_needing_interim_notice(now=now):
        with transaction.atomic():
            promise = (ServicePromise.objects.select_for_update(of=("self",))
                       .select_related("customer", "category").get(pk=promise_id))
            if not _needs_interim_notice(promise, now=now):
                continue  # a change or another run got there first
            event, _ = promise_event_record(
                kind=EventKind.INTERIM_NOTICE_DUE, promise=promise, now=now,
                key=f"interim_notice:{promise.pk}:{promise.customer_visible_at.isoformat()}",
                payload={"days": promise.category.interim_notice_days,
                         "last_update": promise.customer_visible_at.isoformat()})
            CustomerNotice.objects.get_or_create(event=event, defaults={
                "promise": promise, "email": promise.customer.email, "language": promise.customer.language,
                "created_at": now,
            })
            # Not a state change: only the "last seen by the customer" clock moves.
            ServicePromise.objects.filter(pk=promise.pk).update(customer_visible_at=now)
            sent += 1
    return sent


def next_customer_update(promise: ServicePromise) -> dt.datetime | None:
    """When the customer hears from us at the latest: the next interim notice, while one can be due."""
    waiting = promise.state in (S.COMMITTED, S.IN_DELIVERY) or (
        promise.state == S.ON_HOLD and promise.state_before_hold != S.IN_REVIEW)
    if not waiting:
        return None
    return promise.customer_visible_at + dt.timedelta(days=promise.category.interim_notice_days)


def customer_notices_for_promise(*, promise_id: int) -> list[CustomerNotice]:
    return list(CustomerNotice.objects.filter(promise_id=promise_id).order_by("created_at", "id"))
