"""The transactional outbox and its delivery.

An `OutboxEvent` is written in the transaction of the change that caused it, by the domain app
that made the change: it says who receives the event (`recipients`) and carries everything the
messages show (`payload`), so this app never reads another app's tables. After commit a task
fans the waiting events out in batches into one `Delivery` per recipient and channel (unique key:
event, channel, target), and a task per batch sends them, each row once. Rows, not broker messages,
are the source of truth: a lost message only delays a delivery until the sweep re-dispatches it.

Duplicates: at least once, never silently twice. A worker that dies after the mail server or the
webhook receiver accepted a message but before the row is marked sent leaves the row `sending`;
once its lease (NOTIFICATIONS_LEASE_SECONDS) runs out the sweep sends it again. That window, one
lease long after a crash, is the only one in which a receiver can get a message twice, and every
attempt of a delivery carries the same identity derived from its key (the e-mail's Message-ID, the
webhook's X-SQG-Delivery header), so the receiver can drop the second copy.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import any_field_changed


class EventKind(models.TextChoices):
    GATE_OPENED = "gate_opened", _("Gate opened")
    GATE_DECIDED = "gate_decided", _("Gate decided")
    GATE_RESUMED = "gate_resumed", _("Gate resumed")
    GATE_DUE_SOON = "gate_due_soon", _("Gate due soon")
    GATE_OVERDUE = "gate_overdue", _("Gate overdue")
    GATE_ESCALATED = "gate_escalated", _("Gate escalated")
    CONDITION_LAPSED = "condition_lapsed", _("Condition lapsed")
    PROMISE_SUBMITTED = "promise_submitted", _("Promise submitted")
    PROMISE_APPROVED = "promise_approved", _("Promise approved")
    PROMISE_REJECTED = "promise_rejected", _("Promise rejected")
    PROMISE_ON_HOLD = "promise_on_hold", _("Promise on hold")
    PROMISE_RESUMED = "promise_resumed", _("Promise resumed")
    PROMISE_REWORK = "promise_rework", _("Promise sent to rework")
    PROMISE_WITHDRAWN = "promise_withdrawn", _("Promise withdrawn")
    PROMISE_COMMITTED = "promise_committed", _("Promise committed")
    PROMISE_IN_DELIVERY = "promise_in_delivery", _("Promise in delivery")
    PROMISE_FULFILLED = "promise_fulfilled", _("Promise fulfilled")
    PROMISE_BROKEN = "promise_broken", _("Promise broken")
    PROMISE_CLOSED = "promise_closed", _("Promise closed")
    INTERIM_NOTICE_DUE = "interim_notice_due", _("Interim notice due")
    GUIDANCE_PUBLISHED = "guidance_published", _("Guidance published")
    FEEDBACK_RECEIVED = "feedback_received", _("Feedback received")
    IMPROVEMENT_PROPOSED = "improvement_proposed", _("Improvement proposed")
    IMPROVEMENT_CHANGED = "improvement_changed", _("Improvement changed state")
    EARLY_WARNING = "early_warning", _("Early warning: category break rate")
    GATE_ESCAPE_FLAGGED = "gate_escape_flagged", _("Gate escape rate flagged")
    WEEKLY_DIGEST = "weekly_digest", _("Weekly digest")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    INBOX = "inbox", _("In-app inbox")
    WEBHOOK = "webhook", _("Webhook")


class OutboxEvent(models.Model):
    kind = models.CharField(max_length=40, choices=EventKind.choices, db_index=True, verbose_name=_("kind"))
    # What the event is about, named by the domain app ("promise:12"): a reference, not a foreign
    # key, so the outbox outlives the rows it speaks of and depends on no domain table.
    subject = models.CharField(max_length=80, blank=True, db_index=True, verbose_name=_("subject"))
    # Who receives it (`Recipients.as_json()`), decided by the domain app when it records the event.
    recipients = models.JSONField(default=dict, blank=True, verbose_name=_("recipients"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    # Clock events carry their period in the key ("gate_escalated:12:day-3"): a second run of the
    # same period finds the row and records nothing.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True, verbose_name=_("key"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("created at"))
    fanned_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("fanned out at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(fanned_out_at__isnull=True),
                         name="outbox_event_unfanned"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class NotificationProfile(models.Model):
    """Per-user notification settings: the language messages are written in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_profile", verbose_name=_("user"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)

    class Meta:
        verbose_name = _("notification profile")
        verbose_name_plural = _("notification profiles")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class ChannelPreference(models.Model):
    """A user's choice for one event kind and channel; without a row the default applies."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences", verbose_name=_("user"))
    kind = models.CharField(max_length=40, choices=EventKind.choices, verbose_name=_("kind"))
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="channel_pref_unique")]
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")

    def __str__(self) -> str:
        return f"{self.user} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An outgoing webhook of a user (a chat tool, a CRM): signed JSON posts of the chosen events."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="webhook_subscriptions", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128, default=new_webhook_secret)
    kinds = models.JSONField(_("event kinds"), default=list, blank=True,
                             help_text=_("Event kinds to send; empty for all the user receives."))
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, verbose_name=_("consecutive failures"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.TextField(blank=True, verbose_name=_("disabled reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["user", "name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.kinds or kind in self.kinds)


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


D = DeliveryState


class Delivery(ConcurrentTransitionMixin, models.Model):
    """One event to one recipient on one channel. `key` makes a second fan-out a no-op."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("event"))
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    key = models.CharField(max_length=120, unique=True, verbose_name=_("key"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="notification_deliveries", verbose_name=_("recipient"))
    webhook = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="deliveries", verbose_name=_("webhook"))
    address = models.EmailField(blank=True, help_text=_("Email address for a recipient without an account."),
        verbose_name=_("address"))
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE, verbose_name=_("language"))

    state = FSMField(default=D.PENDING, choices=DeliveryState.choices, protected=True,
        verbose_name=_("state"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    # A claimed delivery belongs to one worker until its lease ends; a worker killed mid-send
    # leaves a lease that runs out, and the next attempt takes the row over.
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"),
                         name="delivery_pending_due"),
            models.Index(fields=["lease_until"], condition=models.Q(state="sending"),
                         name="delivery_sending_lease"),
        ]
        # A sent delivery is the record of what went out (PostgreSQL): it cannot be deleted, and
        # nothing but its address may change (an erasure request pseudonymises the address).
        triggers = [
            pgtrigger.Protect(name="sent_delivery_kept", operation=pgtrigger.Delete,
                              condition=pgtrigger.Q(old__state="sent")),
            pgtrigger.Protect(name="sent_delivery_unchanged", operation=pgtrigger.Update,
                              condition=pgtrigger.Q(old__state="sent")
                              & any_field_changed("event", "channel", "key", "recipient", "webhook", "language",
                                                  "state", "attempts", "sent_at", "last_error", "created_at")),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"

    @transition(field=state, source=[D.PENDING, D.SENDING], target=D.SENDING)
    def claim(self, *, now, lease_seconds: float) -> None:
        self.attempts += 1
        self.lease_until = now + dt.timedelta(seconds=lease_seconds)

    @transition(field=state, source=[D.SENDING], target=D.SENT)
    def succeed(self, *, now) -> None:
        self.sent_at = now
        self.lease_until = None
        self.last_error = ""

    @transition(field=state, source=[D.SENDING], target=D.PENDING)
    def postpone(self, *, next_attempt_at, error: str) -> None:
        self.next_attempt_at = next_attempt_at
        self.lease_until = None
        self.last_error = error

    @transition(field=state, source=[D.SENDING], target=D.PENDING)
    def release(self, *, now) -> None:
        """A batch ran out of lease before it got to this row: nothing was sent, so the claim is undone
        (and not counted as an attempt) and the row is due again at once."""
        self.attempts = max(0, self.attempts - 1)
        self.lease_until = None
        self.next_attempt_at = now

    @transition(field=state, source=[D.PENDING, D.SENDING], target=D.FAILED)
    def fail(self, *, error: str) -> None:
        self.lease_until = None
        self.last_error = error

    @transition(field=state, source=[D.FAILED], target=D.PENDING)
    def retry(self, *, now) -> None:
        self.attempts = 0
        self.next_attempt_at = now


class InboxItem(models.Model):
    """A message in a user's in-app inbox. One per inbox delivery, so a retry cannot add a second."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items",
        verbose_name=_("user"))
    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="inbox_item",
        verbose_name=_("delivery"))
    kind = models.CharField(max_length=40, choices=EventKind.choices, verbose_name=_("kind"))
    title = models.CharField(max_length=300, verbose_name=_("title"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    link = models.CharField(max_length=500, blank=True, verbose_name=_("link"))
    subject = models.CharField(max_length=80, blank=True,
        verbose_name=_("subject"))  # the event's subject, e.g. "promise:12"
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="inbox_user_recent"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="inbox_user_unread"),
        ]

    def __str__(self) -> str:
        return self.title
