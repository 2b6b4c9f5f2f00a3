"""The outbox: recording an event and fanning it out into deliveries.

The domain apps call `event_record` inside the transaction of the change that caused the event,
so the event exists exactly when the change does; they name its recipients and give it the payload
its messages show (see promises/events.py, qualitygates/events.py, feedback/events.py). Everything
after that runs in Celery tasks: `event_fan_out` here, then notifications.delivery sends each
delivery and notifications.sweep re-dispatches what the broker lost. Each of them may run any
number of times for the same row and sends once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from . import channels, selectors
from .dispatch import DELIVERY_TASK, FAN_OUT_TASK, dispatch_batched_on_commit
from .models import Channel, Delivery, DeliveryState, EventKind, InboxItem, OutboxEvent
from .recipients import Recipients


def event_record(*, kind: EventKind, recipients: Recipients, payload: dict, subject: str = "", actor=None,
                 key: str | None = None, now: dt.datetime | None = None) -> tuple[OutboxEvent, bool]:
    """Write one outbox row in the caller's transaction; hand it to a worker after commit.
    Returns the event and whether it was recorded now.

    With a `key` (clock events: the period is part of it) a second call finds the first row and
    records nothing, so a schedule that fires twice notifies once.
    """
    if not key:
        return events_record([NewEvent(kind=kind, recipients=recipients, payload=payload, subject=subject,
                                       actor=actor, created_at=now)])[0], True
    fields = {"kind": kind, "subject": subject, "recipients": recipients.as_json(), "actor": actor,
              "payload": payload, "created_at": now or timezone.now()}
    event, created = OutboxEvent.objects.get_or_create(key=key, defaults=fields)
    if created:
        # One message for all the events of the transaction (a decision records two or three).
        dispatch_batched_on_commit(FAN_OUT_TASK, event.pk)
    return event, created


@dataclass(frozen=True)
class NewEvent:
    """An event as a domain app records it (its events.py decides the recipients and the payload)."""

    kind: EventKind
    recipients: Recipients
    payload: dict
    subject: str = ""
    actor: object = None
    created_at: dt.datetime | None = None


def events_record(events: Sequence[NewEvent]) -> list[OutboxEvent]:
    """Write the outbox rows of one change in the caller's transaction, in one statement, and hand
    them to a worker after commit in one message. Keyless events only (see event_record)."""
    if not events:
        return []
    now = timezone.now()
    rows = [OutboxEvent(kind=e.kind, subject=e.subject, recipients=e.recipients.as_json(), actor=e.actor,
                        payload=e.payload, created_at=e.created_at or now)
            for e in events]
    # Hand-written INSERT: a decision records its events on every request, and bulk_create spent
    # longer composing its statement than the database spent on it (bench/decisions.py).
    json_value = OutboxEvent._meta.get_field("payload").get_db_prep_value
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in (
        row.kind, row.subject, json_value(row.recipients, connection), row.actor_id,
        json_value(row.payload, connection), row.created_at)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {OutboxEvent._meta.db_table} (kind, subject, recipients, actor_id, payload, "  # noqa: S608
                       f"created_at) VALUES {placeholders} RETURNING id", params)
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding = False
    dispatch_batched_on_commit(FAN_OUT_TASK, *(row.pk for row in rows))
    return rows


def event_fan_out(*, event_id: int, now: dt.datetime | None = None) -> list[int]:
    """Fan out one event (once); returns the ids of its deliveries handed to workers."""
    return events_fan_out(event_ids=[event_id], now=now)


def events_fan_out_waiting(*, batch: int, seconds: float, now: dt.datetime | None = None) -> tuple[list[int], bool]:
    """Fan out the events waiting, oldest first, a batch per transaction, for at most about
    `seconds`. Returns the ids of the deliveries handed to workers, and whether events may still be
    waiting (the last batch was full when the time was up)."""
    deadline = time.monotonic() + seconds
    ids: list[int] = []
    while True:
        events, batch_ids = _events_fan_out(event_ids=(), fill_to=batch, now=now)
        ids += batch_ids
        if events < batch:
            return ids, False
        if time.monotonic() >= deadline:
            return ids, True


def events_fan_out(*, event_ids: Sequence[int] = (), fill_to: int = 0,
                   now: dt.datetime | None = None) -> list[int]:
    """Create the deliveries of the named events and, up to `fill_to` events in all, of the oldest
    others still waiting, in one transaction; dispatch the outgoing ones after commit in one message
    per batch. Returns the ids of the deliveries handed to workers.

    Events are claimed with FOR UPDATE SKIP LOCKED: one another worker is fanning out right now is
    theirs (if that worker dies, its transaction rolls back and the event waits for the next
    fan-out or the sweep), and one already fanned out is left alone, so running this twice creates
    nothing twice.

    Inbox deliveries are done right here: the inbox is this database, so the item and its sent
    delivery commit together with the fan-out, exactly once, without a task of their own.
    """
    return _events_fan_out(event_ids=event_ids, fill_to=fill_to, now=now)[1]


def _events_fan_out(*, event_ids: Sequence[int], fill_to: int, now: dt.datetime | None) -> tuple[int, list[int]]:
    now = now or timezone.now()
    with transaction.atomic():
        waiting = OutboxEvent.objects.select_for_update(skip_locked=True).filter(fanned_out_at__isnull=True)
        events = list(waiting.filter(pk__in=event_ids).order_by("created_at", "id")) if event_ids else []
        if len(events) < fill_to:
            events += waiting.exclude(pk__in=[e.pk for e in events]).order_by("created_at", "id")[
                :fill_to - len(events)]
        if not events:
            return 0, []
        targets = selectors.events_targets(events)
        rows = [Delivery(event=event, channel=t.channel, key=f"{event.pk}:{t.channel}:{t.target}",
                         recipient=t.user, webhook=t.webhook, address=t.address, language=t.language,
                         next_attempt_at=now, created_at=now)
                for event in events for t in targets[event.pk]]
        items = [inbox_deliver(delivery, now=now) for delivery in rows if delivery.channel == Channel.INBOX]
        Delivery.objects.bulk_create(rows)
        InboxItem.objects.bulk_create([item for item in items if item is not None])
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(fanned_out_at=now)
        ids = [d.pk for d in rows if d.state == DeliveryState.PENDING]
        dispatch_batched_on_commit(DELIVERY_TASK, *ids)
    return len(events), ids


def inbox_deliver(delivery: Delivery, *, now: dt.datetime) -> InboxItem | None:
    """Render the inbox item of a delivery and move the delivery to sent (or failed, with the reason).
    The caller saves both in one transaction."""
    delivery.claim(now=now, lease_seconds=0)
    try:
        message = channels.render(delivery, summary=True)
    except channels.PermanentFailure as exc:
        delivery.fail(error=str(exc))
        return None
    delivery.succeed(now=now)
    return InboxItem(user_id=delivery.recipient_id, delivery=delivery, kind=delivery.event.kind,
                     title=message.subject[:300], body=message.summary, link=message.link,
                     subject=delivery.event.subject, created_at=now)
