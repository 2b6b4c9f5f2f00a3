"""Sending one delivery on its channel, once: claimed with a lease, sent outside the transaction,
its outcome written only by the attempt that still owns the row; retried with backoff; a failed
one sent again by a manager."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, IllegalTransition, NotAllowed, NotFound
from core.roles import is_manager, is_operator

from . import channels
from .dispatch import DELIVERY_TASK, dispatch_on_commit
from .models import Channel, Delivery, DeliveryState, WebhookSubscription
from .services import inbox_deliver

logger = logging.getLogger(__name__)


def _conf(name: str, default):
    return getattr(settings, name, default)


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
                    .select_related("event", "recipient", "webhook")
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
            item = inbox_deliver(delivery, now=now)
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
        dispatch_on_commit(DELIVERY_TASK, delivery_id, countdown=delay)
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
    """A manager or an operator (support) sends a failed delivery again (its receiver was fixed):
    attempts count from zero."""
    if not (is_manager(user) or is_operator(user)):
        raise NotAllowed(_("Only a manager or an operator may send a failed notification again."),
                         code=CommonErrorCode.NOT_MANAGER)
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound(_("Delivery %(id)s does not exist.") % {"id": delivery_id})
        if delivery.state != DeliveryState.FAILED:
            raise IllegalTransition(_("Only a failed delivery is sent again; this one is %(state)s.")
                                    % {"state": delivery.state})
        delivery.retry(now=timezone.now())
        delivery.save()
        dispatch_on_commit(DELIVERY_TASK, delivery.pk)
    return delivery
