"""Writes of the notifications app.

`event_record` must be called inside the transaction of the change that caused the event, so the
event exists exactly when the change does. Everything after that runs in Celery tasks that call
the functions below; each of them may run any number of times for the same row and sends once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import IllegalTransition, NotAllowed, NotFound, ValidationFailed

from . import channels, selectors
from .models import (
    Channel,
    ChannelPreference,
    CustomerNotice,
    Delivery,
    DeliveryState,
    EventKind,
    InboxItem,
    NotificationProfile,
    OutboxEvent,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)


def _conf(name: str, default):
    return getattr(settings, name, default)


# --- recording and dispatching --------------------------------------------------------------

def event_record(*, kind: EventKind | str, promise=None, gate_review=None, actor=None,
                 payload: dict | None = None, key: str | None = None) -> OutboxEvent:
    """Write one outbox row in the caller's transaction; hand it to a worker after commit.

    With a `key` (clock events: the period is part of it) a second call finds the first row and
    records nothing, so a schedule that fires twice notifies once.
    """
    return _event_record(kind=kind, promise=promise, gate_review=gate_review, actor=actor, payload=payload,
                         key=key)[0]


def _event_record(*, kind, promise=None, gate_review=None, actor=None, payload=None,
                  key: str | None = None) -> tuple[OutboxEvent, bool]:
    fields = {"kind": kind, "promise": promise, "gate_review": gate_review, "actor": actor,
              "payload": payload or {}}
    if key:
        event, created = OutboxEvent.objects.get_or_create(key=key, defaults=fields)
        if not created:
            return event, False
    else:
        event = OutboxEvent.objects.create(**fields)
    from . import tasks

    dispatch_on_commit(tasks.event_fan_out, event.pk)
    return event, True


def dispatch_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: publish(task, *args))


def publish(task, *args, countdown: float | None = None) -> bool:
    """Hand a task to the broker. A broker that is down must not break the request whose change
    is already committed: the row stays in the outbox and the sweep re-dispatches it."""
    try:
        # retry=False: waiting for a dead broker would hold the request; the sweep is the retry.
        task.apply_async(args=args, countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - any publishing failure leaves the row for the sweep
        logger.warning("Could not publish %s%r; the outbox sweep will re-dispatch it.", task.name, args,
                       exc_info=True)
        return False
    return True


# --- fan-out: one delivery per recipient and channel --------------------------------------------

def event_fan_out(*, event_id: int, now: dt.datetime | None = None) -> list[int]:
    """Create the event's deliveries (once) and dispatch the outgoing ones after commit.

    Inbox deliveries are done right here: the inbox is this database, so the item and its sent
    delivery commit together with the fan-out, exactly once, without a task of their own.
    Returns the ids of the deliveries handed to workers.
    """
    now = now or timezone.now()
    from . import tasks

    with transaction.atomic():
        event = (OutboxEvent.objects.select_for_update(of=("self",))
                 .select_related("promise", "promise__customer", "gate_review").filter(pk=event_id).first())
        if event is None or event.fanned_out_at is not None:
            return []  # the row lock makes a second fan-out of the same event find it done
        rows = [Delivery(event=event, channel=t.channel, key=f"{event.pk}:{t.channel}:{t.target}",
                         recipient=t.user, webhook=t.webhook, address=t.address, language=t.language,
                         next_attempt_at=now, created_at=now)
                for t in selectors.event_targets(event)]
        items = []
        for delivery in rows:
            if delivery.channel == Channel.INBOX:
                items.append(_inbox_deliver(delivery, now=now))
        Delivery.objects.bulk_create(rows)
        InboxItem.objects.bulk_create([item for item in items if item is not None])
        event.fanned_out_at = now
        event.save(update_fields=["fanned_out_at"])
        ids = [d.pk for d in rows if d.state == DeliveryState.PENDING]
        for pk in ids:
            dispatch_on_commit(tasks.delivery_send, pk)
    return ids


def _inbox_deliver(delivery: Delivery, *, now: dt.datetime) -> InboxItem | None:
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
                     promise_id=delivery.event.promise_id, created_at=now)


# --- sending one delivery ------------------------------------------------------------------------

def _backoff_seconds(attempts: int) -> float:
    base = float(_conf("NOTIFICATIONS_RETRY_BASE_SECONDS", 30))
    cap = float(_conf("NOTIFICATIONS_RETRY_MAX_SECONDS", 1800))
    return min(cap, base * 2 ** max(0, attempts - 1))


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one delivery once. Returns what happened (for the task's log and the tests).

    The row is claimed with a lease in a short transaction, sent outside it (a slow webhook holds no
    lock), and the outcome is written only if this attempt still owns the row.
    """
    now = now or timezone.now()
    lease = float(_conf("NOTIFICATIONS_LEASE_SECONDS", 120))
    with transaction.atomic():
        # skip_locked: a row another worker is claiming or finishing right now is theirs.
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("event", "event__promise", "event__promise__customer", "event__gate_review",
                                    "recipient", "webhook")
                    .filter(pk=delivery_id).first())
        if delivery is None:
            return "busy"
        if delivery.state in (DeliveryState.SENT, DeliveryState.FAILED):
            return "done"
        if delivery.state == DeliveryState.SENDING and delivery.lease_until and delivery.lease_until > now:
            return "leased"
        # A little slack for the publisher's and the worker's clocks.
        if delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > now + dt.timedelta(seconds=2):
            return "not_due"
        if delivery.channel == Channel.WEBHOOK and not (delivery.webhook and delivery.webhook.is_active):
            reason = delivery.webhook.disabled_reason if delivery.webhook else ""
            delivery.fail(error=f"Webhook subscription disabled: {reason}".strip())
            delivery.save()
            return "failed"
        if delivery.channel == Channel.INBOX:
            # A retried inbox delivery (the fan-out does the first): our own database, so the item
            # and the state commit together, exactly once.
            item = _inbox_deliver(delivery, now=now)
            delivery.save()
            if item is not None:
                item.save()
            return delivery.state
        delivery.claim(now=now, lease_seconds=lease)
        delivery.save()
        attempt = delivery.attempts

    error, permanent = "", False
    try:
        channels.send(delivery)
    except channels.PermanentFailure as exc:
        error, permanent = str(exc), True
    except Exception as exc:  # noqa: BLE001 - any other failure is worth another attempt
        error = f"{type(exc).__name__}: {exc}"
    return _delivery_finish(delivery_id=delivery_id, attempt=attempt, error=error, permanent=permanent)


def _delivery_finish(*, delivery_id: int, attempt: int, error: str, permanent: bool) -> str:
    from . import tasks

    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery_id)
        if delivery.state != DeliveryState.SENDING or delivery.attempts != attempt:
            return "superseded"  # our lease ran out and another attempt took over
        if delivery.channel == Channel.WEBHOOK and delivery.webhook_id:
            _webhook_record_outcome(delivery.webhook_id, ok=not error, error=error, now=now)
        if not error:
            delivery.succeed(now=now)
            delivery.save()
            return "sent"
        max_attempts = int(_conf("NOTIFICATIONS_MAX_ATTEMPTS", 8))
        if permanent or delivery.attempts >= max_attempts:
            prefix = "" if permanent else f"Gave up after {delivery.attempts} attempts: "
            delivery.fail(error=prefix + error)
            delivery.save()
            logger.error("Delivery %s failed: %s", delivery.key, delivery.last_error)
            return "failed"
        delay = _backoff_seconds(delivery.attempts)
        delivery.postpone(next_attempt_at=now + dt.timedelta(seconds=delay), error=error)
        delivery.save()
        logger.warning("Delivery %s attempt %s failed (%s); next in %.0fs.", delivery.key, attempt, error, delay)
        transaction.on_commit(lambda: publish(tasks.delivery_send, delivery_id, countdown=delay))
        return "retry"


def _webhook_record_outcome(subscription_id: int, *, ok: bool, error: str, now: dt.datetime) -> None:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if ok:
        if subscription.consecutive_failures:
            subscription.consecutive_failures = 0
            subscription.save(update_fields=["consecutive_failures"])
        return
    subscription.consecutive_failures += 1
    limit = int(_conf("NOTIFICATIONS_WEBHOOK_MAX_FAILURES", 10))
    if subscription.is_active and subscription.consecutive_failures >= limit:
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = f"{subscription.consecutive_failures} consecutive failures; last: {error}"
        logger.error("Webhook subscription %s disabled: %s", subscription.pk, subscription.disabled_reason)
    subscription.save(update_fields=["consecutive_failures", "is_active", "disabled_at", "disabled_reason"])


def delivery_retry(*, delivery_id: int, user) -> Delivery:
    """A manager sends a failed delivery again (its receiver was fixed): attempts count from zero."""
    from core.roles import is_manager

    from . import tasks

    if not is_manager(user):
        raise NotAllowed("Only a manager may send a failed notification again.", code="not_manager")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(f"Delivery {delivery_id} does not exist.")
        if delivery.state != DeliveryState.FAILED:
            raise IllegalTransition(f"Only a failed delivery is sent again; this one is {delivery.state}.")
        delivery.retry(now=timezone.now())
        delivery.save()
        dispatch_on_commit(tasks.delivery_send, delivery.pk)
    return delivery


# --- the sweep: what the broker lost, the database still knows ---------------------------------

def outbox_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Re-dispatch events never fanned out and deliveries whose attempt is overdue by the grace period
    or whose worker's lease ran out. Duplicates are harmless: every task is idempotent."""
    from . import tasks

    now = now or timezone.now()
    grace = dt.timedelta(seconds=float(_conf("NOTIFICATIONS_SWEEP_GRACE_SECONDS", 60)))
    event_ids = list(OutboxEvent.objects.filter(fanned_out_at__isnull=True, created_at__lte=now - grace)
                     .order_by("created_at").values_list("pk", flat=True)[:limit])
    delivery_ids = list(
        Delivery.objects.filter(Q(state=DeliveryState.PENDING, next_attempt_at__lte=now - grace)
                                | Q(state=DeliveryState.SENDING, lease_until__lte=now))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    published = sum(publish(tasks.event_fan_out, pk) for pk in event_ids)
    published += sum(publish(tasks.delivery_send, pk) for pk in delivery_ids)
    if event_ids or delivery_ids:
        logger.info("Outbox sweep: %s events, %s deliveries re-dispatched (%s published).",
                    len(event_ids), len(delivery_ids), published)
    return {"events": len(event_ids), "deliveries": len(delivery_ids), "published": published}


# --- user settings and the inbox -------------------------------------------------------------------

def notification_profile_set(*, user, language: str) -> NotificationProfile:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(f"Language must be one of {', '.join(dict(settings.LANGUAGES))}.",
                               code="invalid_language", fields={"language": "unknown language"})
    profile, _ = NotificationProfile.objects.update_or_create(user=user, defaults={"language": language})
    return profile


def channel_preference_set(*, user, kind: str, channel: str, enabled: bool) -> ChannelPreference:
    """Switch one channel on or off for one event kind, for this user."""
    if kind not in EventKind.values:
        raise ValidationFailed(f"Unknown event kind {kind!r}.", code="invalid_kind", fields={"kind": "unknown"})
    if channel not in Channel.values:
        raise ValidationFailed(f"Channel must be one of {', '.join(Channel.values)}.", code="invalid_channel",
                               fields={"channel": "unknown"})
    preference, _ = ChannelPreference.objects.update_or_create(
        user=user, kind=kind, channel=channel, defaults={"enabled": bool(enabled)})
    return preference


def webhook_subscription_create(*, user, name: str, url: str, kinds: list[str] | None = None,
                                secret: str | None = None) -> WebhookSubscription:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationFailed("A webhook needs an http(s) URL.", code="invalid_url",
                               fields={"url": "not an http(s) URL"}) from exc
    unknown = [k for k in (kinds or []) if k not in EventKind.values]
    if unknown:
        raise ValidationFailed(f"Unknown event kinds: {', '.join(unknown)}.", code="invalid_kind",
                               fields={"kinds": "unknown kinds"})
    if not (name or "").strip():
        raise ValidationFailed("A webhook needs a name.", code="invalid", fields={"name": "required"})
    fields: dict[str, Any] = {"user": user, "name": name.strip(), "url": url, "kinds": list(kinds or [])}
    if secret:
        fields["secret"] = secret
    return WebhookSubscription.objects.create(**fields)


def webhook_subscription_enable(*, subscription_id: int, user) -> WebhookSubscription:
    """Switch a disabled webhook back on (after its receiver was fixed): failures count from zero."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
        if subscription is None:
            raise NotFound(f"Webhook subscription {subscription_id} does not exist.")
        subscription.is_active, subscription.consecutive_failures = True, 0
        subscription.disabled_at, subscription.disabled_reason = None, ""
        subscription.save()
    return subscription


def inbox_mark_read(*, user, item_id: int, now: dt.datetime | None = None) -> InboxItem:
    item = InboxItem.objects.filter(pk=item_id, user=user).first()
    if item is None:
        raise NotFound(f"Inbox item {item_id} does not exist.")
    if item.read_at is None:
        item.read_at = now or timezone.now()
        InboxItem.objects.filter(pk=item.pk, read_at__isnull=True).update(read_at=item.read_at)
    return item


def inbox_mark_all_read(*, user, now: dt.datetime | None = None) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


# --- the clock -----------------------------------------------------------------------------------

def gate_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the owning team of each open gate that has used up its share of decision time
    (NOTIFICATIONS_REMINDER_AT, 80 %), counted in the team's working time. Once per due time."""
    from qualitygates.working_time import working_seconds_between

    now = now or timezone.now()
    share = float(_conf("NOTIFICATIONS_REMINDER_AT", 0.8))
    sent = 0
    for review, calendar in selectors.gate_reviews_open_not_due(now=now):
        limit = review.decision_hours * 3600
        remaining = working_seconds_between(now, review.due_at, calendar)
        if remaining > limit * (1 - share):
            continue
        key = f"gate_due_soon:{review.pk}:{review.due_at.isoformat()}"
        with transaction.atomic():
            _, created = _event_record(
                kind=EventKind.GATE_DUE_SOON, promise=review.promise, gate_review=review, key=key,
                payload={"gate": review.name, "due_at": review.due_at.isoformat(), "team_id": review.owning_team_id,
                         "remaining_hours": round(remaining / 3600, 1)})
        sent += created
    return sent


def gate_escalations_send(*, now: dt.datetime | None = None) -> int:
    """Each open gate past its due time: the team hears it is overdue once; the managers get an
    escalation now and again every 24 hours while it stays overdue."""
    now = now or timezone.now()
    sent = 0
    for review in selectors.gate_reviews_overdue(now=now):
        period = int((now - review.due_at) // dt.timedelta(days=1))
        payload = {"gate": review.name, "due_at": review.due_at.isoformat(), "team_id": review.owning_team_id,
                   "overdue_days": period}
        with transaction.atomic():
            _event_record(kind=EventKind.GATE_OVERDUE, promise=review.promise, gate_review=review, payload=payload,
                          key=f"gate_overdue:{review.pk}:{review.due_at.isoformat()}")
            _, created = _event_record(
                kind=EventKind.GATE_ESCALATED, promise=review.promise, gate_review=review, payload=payload,
                key=f"gate_escalated:{review.pk}:{review.due_at.isoformat()}:{period}")
        sent += created
    return sent


def interim_notices_send(*, now: dt.datetime | None = None) -> int:
    """Tell each customer whose committed promise has had no visible update for its category's
    interim-notice days that we are still on it, with the status link. The notice is part of
    the customer's timeline: it is recorded and moves `customer_visible_at`."""
    from promises.models import ServicePromise

    now = now or timezone.now()
    sent = 0
    for promise_id in selectors.promise_ids_needing_interim_notice(now=now):
        with transaction.atomic():
            promise = (ServicePromise.objects.select_for_update(of=("self",))
                       .select_related("customer", "category").get(pk=promise_id))
            if not selectors.needs_interim_notice(promise, now=now):
                continue  # a change or another run got there first
            key = f"interim_notice:{promise.pk}:{promise.customer_visible_at.isoformat()}"
            event = event_record(kind=EventKind.INTERIM_NOTICE_DUE, promise=promise, key=key, payload={
                "days": promise.category.interim_notice_days,
                "last_update": promise.customer_visible_at.isoformat(),
            })
            CustomerNotice.objects.get_or_create(event=event, defaults={
                "promise": promise, "email": promise.customer.email, "language": promise.customer.language,
                "created_at": now,
            })
            # Not a state change: only the "last seen by the customer" clock moves.
            ServicePromise.objects.filter(pk=promise.pk).update(customer_visible_at=now)
            sent += 1
    return sent


def weekly_digest_send(*, now: dt.datetime | None = None) -> OutboxEvent:
    """The managers' weekly KVP digest: open improvements, broken promises, overdue gates. One per ISO week."""
    now = now or timezone.now()
    year, week, _ = timezone.localtime(now).isocalendar()
    with transaction.atomic():
        return event_record(kind=EventKind.WEEKLY_DIGEST, key=f"weekly_digest:{year}-W{week:02d}",
                            payload=selectors.weekly_digest_figures(now=now))


def webhook_subscription_disable(*, subscription_id: int, user) -> WebhookSubscription:
    """Switch one of the user's webhooks off. It is kept (with its delivery history) and can be re-enabled."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
        if subscription is None:
            raise NotFound(f"Webhook subscription {subscription_id} does not exist.")
        if subscription.is_active:
            subscription.is_active = False
            subscription.disabled_at, subscription.disabled_reason = timezone.now(), "Switched off by its owner."
            subscription.save()
    return subscription
