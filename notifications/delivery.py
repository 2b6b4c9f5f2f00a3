"""Sending deliveries on their channels, each once: a batch claimed with a lease, sent outside the
transaction, each outcome written only by the attempt that still owns the row; retried with
backoff; a failed one sent again by a manager."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, IllegalTransition, NotAllowed, NotFound
from core.roles import is_manager, is_operator

from . import channels
from .dispatch import DELIVERY_TASK, dispatch_batched_on_commit, dispatch_on_commit
from .models import Channel, Delivery, DeliveryState, InboxItem, WebhookSubscription
from .services import inbox_deliver

logger = logging.getLogger(__name__)


def _conf(name: str, default):
    return getattr(settings, name, default)


def _backoff_seconds(attempts: int) -> float:
    base = float(_conf("NOTIFICATIONS_RETRY_BASE_SECONDS", 30))
    cap = float(_conf("NOTIFICATIONS_RETRY_MAX_SECONDS", 1800))
    return min(cap, base * 2 ** max(0, attempts - 1))


# What a row's outcome changes: the FSM transitions set them on the rows, `_outcomes_save` writes them.
_OUTCOME_FIELDS = ("state", "attempts", "lease_until", "next_attempt_at", "last_error", "sent_at")


def _outcomes_save(rows: list[Delivery]) -> None:
    """Write what the transitions changed, one UPDATE per distinct outcome: a batch's rows mostly share
    theirs (all claimed with the same lease, all sent at the same time), so that is one statement for
    the batch. (bulk_update's CASE per row and field costs more to build than the sends it records.)"""
    groups: dict[tuple, list[int]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row, field) for field in _OUTCOME_FIELDS), []).append(row.pk)
    for values, pks in groups.items():
        Delivery.objects.filter(pk__in=pks).update(**dict(zip(_OUTCOME_FIELDS, values, strict=True)))


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one delivery once. Returns what happened (for the task's log and the tests)."""
    return deliveries_send(delivery_ids=[delivery_id], now=now)[delivery_id]


def deliveries_send(*, delivery_ids: Sequence[int], now: dt.datetime | None = None) -> dict[int, str]:
    """Send each of the deliveries once; returns what happened to each.

    The rows are claimed with a lease in one short transaction (FOR UPDATE SKIP LOCKED: a row
    another worker is claiming or finishing right now is theirs) and sent outside it (a slow
    receiver holds no lock; the e-mails share one connection). Each outcome is written only if this
    attempt still owns its row: a success by one UPDATE right after its send, failures together at
    the end.
    """
    now = now or timezone.now()
    lease = float(_conf("NOTIFICATIONS_LEASE_SECONDS", 120))
    outcomes = dict.fromkeys(delivery_ids, "busy")
    with transaction.atomic():
        rows = list(Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("event", "recipient", "webhook")
                    .filter(pk__in=delivery_ids).order_by("pk"))
        changed, items, claimed = [], [], []
        for delivery in rows:
            outcome, item = _delivery_claim(delivery, now=now, lease=lease)
            outcomes[delivery.pk] = outcome
            if outcome == "claimed":
                claimed.append(delivery)
            if outcome in ("claimed", DeliveryState.SENT, DeliveryState.FAILED):
                changed.append(delivery)
            if item is not None:
                items.append(item)
        _outcomes_save(changed)
        InboxItem.objects.bulk_create(items)
    if claimed:
        outcomes.update(_deliveries_send_claimed(claimed, lease_until=now + dt.timedelta(seconds=lease)))
    return outcomes


def _delivery_claim(delivery: Delivery, *, now: dt.datetime, lease: float) -> tuple[str, InboxItem | None]:
    """Decide what this attempt does with a locked row; the caller saves the row if it changed."""
    if delivery.state in (DeliveryState.SENT, DeliveryState.FAILED):
        return "done", None
    if delivery.state == DeliveryState.SENDING and delivery.lease_until and delivery.lease_until > now:
        return "leased", None
    # A little slack for the publisher's and the worker's clocks.
    if delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > now + dt.timedelta(seconds=2):
        return "not_due", None
    if delivery.channel == Channel.WEBHOOK and not (delivery.webhook and delivery.webhook.is_active):
        reason = delivery.webhook.disabled_reason if delivery.webhook else ""
        delivery.fail(error=f"Webhook subscription disabled: {reason}".strip())
        return delivery.state, None
    if delivery.channel == Channel.INBOX:
        # A retried inbox delivery (the fan-out does the first): our own database, so the item and
        # the state commit together, exactly once.
        return delivery.state, inbox_deliver(delivery, now=now)
    delivery.claim(now=now, lease_seconds=lease)
    return "claimed", None


def _deliveries_send_claimed(claimed: list[Delivery], *, lease_until: dt.datetime) -> dict[int, str]:
    """Send the claimed rows while the lease lasts, recording each success at once; a row the lease
    cannot cover any more (a slow receiver held up the batch) is released unsent, for a new task."""
    # The longest a single send may take: past lease_until minus this, another worker could take
    # the next row over while it is still being sent.
    longest = max(float(_conf("EMAIL_TIMEOUT", None) or 30), float(_conf("NOTIFICATIONS_WEBHOOK_TIMEOUT", 5)))
    outcomes: dict[int, str] = {}
    failed: dict[int, tuple[int, str, bool]] = {}
    released: dict[int, int] = {}
    hooks_ok: set[int] = set()
    with channels.Sender() as sender:
        for delivery in claimed:
            if (outcomes or failed) and timezone.now() + dt.timedelta(seconds=longest) >= lease_until:
                released[delivery.pk] = delivery.attempts
                continue
            try:
                sender.send(delivery)
            except channels.PermanentFailure as exc:
                failed[delivery.pk] = (delivery.attempts, str(exc), True)
                continue
            except Exception as exc:  # noqa: BLE001 - any other failure is worth another attempt
                failed[delivery.pk] = (delivery.attempts, f"{type(exc).__name__}: {exc}", False)
                continue
            # Recorded before the next send, not once for the batch: a worker killed in the middle of
            # a batch sends again only the one message it had in flight.
            outcomes[delivery.pk] = _delivery_sent_record(delivery, now=timezone.now())
            if outcomes[delivery.pk] == "sent" and delivery.channel == Channel.WEBHOOK and delivery.webhook_id:
                hooks_ok.add(delivery.webhook_id)
    if hooks_ok:
        # A success ends a webhook's run of failures.
        WebhookSubscription.objects.filter(pk__in=hooks_ok, consecutive_failures__gt=0).update(consecutive_failures=0)
    if failed or released:
        outcomes.update(_deliveries_finish(failed=failed, released=released))
    return outcomes


def _delivery_sent_record(delivery: Delivery, *, now: dt.datetime) -> str:
    """Delivery.succeed as one conditional UPDATE, without a locking read first: the transition's
    source state and this attempt's number are in the WHERE, so a row another attempt took over
    after our lease ran out is left alone."""
    updated = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts).update(
        state=DeliveryState.SENT, sent_at=now, lease_until=None, last_error="")
    return "sent" if updated else "superseded"


def _deliveries_finish(*, failed: dict[int, tuple[int, str, bool]], released: dict[int, int]) -> dict[int, str]:
    """The failed and the released rows of a batch: each its transition under a row lock, written
    only where this attempt still owns the row."""
    now = timezone.now()
    outcomes: dict[int, str] = {}
    with transaction.atomic():
        rows = Delivery.objects.select_for_update(of=("self",)).filter(pk__in=[*failed, *released]).order_by("pk")
        changed = []
        for delivery in rows:
            attempt, error, permanent = failed.get(delivery.pk) or (released[delivery.pk], "", False)
            if delivery.state != DeliveryState.SENDING or delivery.attempts != attempt:
                outcomes[delivery.pk] = "superseded"  # our lease ran out and another attempt took over
                continue
            if delivery.pk in released:
                delivery.release(now=now)
                outcomes[delivery.pk] = "released"
                changed.append(delivery)
                continue
            if delivery.channel == Channel.WEBHOOK and delivery.webhook_id:
                _webhook_failure_record(delivery.webhook_id, error=error, now=now)
            outcomes[delivery.pk] = _delivery_outcome(delivery, attempt=attempt, error=error, permanent=permanent,
                                                      now=now)
            changed.append(delivery)
        _outcomes_save(changed)
        dispatch_batched_on_commit(DELIVERY_TASK, *(pk for pk, outcome in outcomes.items() if outcome == "released"))
    return outcomes


def _delivery_outcome(delivery: Delivery, *, attempt: int, error: str, permanent: bool, now: dt.datetime) -> str:
    if not error:
        delivery.succeed(now=now)
        return "sent"
    max_attempts = int(_conf("NOTIFICATIONS_MAX_ATTEMPTS", 8))
    if permanent or delivery.attempts >= max_attempts:
        prefix = "" if permanent else f"Gave up after {delivery.attempts} attempts: "
        delivery.fail(error=prefix + error)
        logger.error("Delivery %s failed: %s", delivery.key, delivery.last_error)
        return "failed"
    delay = _backoff_seconds(delivery.attempts)
    delivery.postpone(next_attempt_at=now + dt.timedelta(seconds=delay), error=error)
    logger.warning("Delivery %s attempt %s failed (%s); next in %.0fs.", delivery.key, attempt, error, delay)
    dispatch_on_commit(DELIVERY_TASK, delivery.pk, countdown=delay)
    return "retry"


def _webhook_failure_record(subscription_id: int, *, error: str, now: dt.datetime) -> None:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
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
