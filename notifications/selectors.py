"""Reads of the notifications app: the people an event's recipients name, the channels they want,
the inbox and the webhooks of a user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from .models import (
    Channel,
    ChannelPreference,
    EventKind,
    InboxItem,
    NotificationProfile,
    OutboxEvent,
    WebhookSubscription,
)
from .recipients import Recipients

K = EventKind

# Sensible defaults: everything lands in the inbox and on the user's webhooks (a webhook exists only
# because its user wants one); email only for what asks someone to act or reports a verdict.
EMAIL_BY_DEFAULT = {K.GATE_OPENED, K.GATE_DECIDED, K.GATE_DUE_SOON, K.GATE_OVERDUE, K.GATE_ESCALATED,
                    K.CONDITION_LAPSED, K.PROMISE_APPROVED, K.PROMISE_REJECTED, K.PROMISE_ON_HOLD,
                    K.PROMISE_REWORK, K.PROMISE_BROKEN, K.GUIDANCE_PUBLISHED, K.WEEKLY_DIGEST, K.EARLY_WARNING,
                    K.GATE_ESCAPE_FLAGGED}


def channel_default(kind: str, channel: str) -> bool:
    if channel == Channel.EMAIL:
        return kind in EMAIL_BY_DEFAULT
    return True


@dataclass(frozen=True)
class Target:
    channel: str
    target: str  # the recipient part of the delivery key
    user: object | None = None
    webhook: WebhookSubscription | None = None
    address: str = ""
    language: str = settings.LANGUAGE_CODE


def event_recipients(event: OutboxEvent) -> list:
    """The active users the event's recipients name (teams resolved to their members); never the
    person whose action caused it."""
    return events_recipients([event])[event.pk]


def events_recipients(events: Sequence[OutboxEvent]) -> dict[int, list]:
    """Per event, its recipients (as `event_recipients`), for any number of events in one query."""
    named = {event.pk: Recipients.from_json(event.recipients) for event in events}
    result: dict[int, list] = {event.pk: [] for event in events}
    wanted = [recipients for recipients in named.values() if recipients.users_named]
    if not wanted:
        return result
    user_ids = {pk for recipients in wanted for pk in recipients.user_ids}
    team_ids = {pk for recipients in wanted for pk in recipients.team_ids}
    group_names = {name for recipients in wanted for name in recipients.group_names}
    # One row per user and group of theirs that the filter's join kept: the F() reuses that join, so
    # each row tells which of the named teams or groups the user is in.
    rows = (get_user_model().objects
            .filter(Q(pk__in=user_ids) | Q(groups__id__in=team_ids) | Q(groups__name__in=group_names),
                    is_active=True)
            .annotate(via_group_id=F("groups__id"), via_group_name=F("groups__name"))
            .select_related("notification_profile").order_by("pk"))
    users: dict[int, object] = {}
    groups: dict[int, tuple[set[int], set[str]]] = {}
    for row in rows:
        users.setdefault(row.pk, row)
        ids, names = groups.setdefault(row.pk, (set(), set()))
        if row.via_group_id is not None:
            ids.add(row.via_group_id)
            names.add(row.via_group_name)
    for event in events:
        recipients = named[event.pk]
        if not recipients.users_named:
            continue
        skip = event.actor_id if recipients.exclude_actor else None
        result[event.pk] = [
            user for pk, user in users.items()
            if pk != skip and (pk in recipients.user_ids or groups[pk][0] & set(recipients.team_ids)
                               or groups[pk][1] & set(recipients.group_names))]
    return result


def event_targets(event: OutboxEvent) -> list[Target]:
    """One target per recipient and channel they want for this kind: a fixed number of queries."""
    return events_targets([event])[event.pk]


def events_targets(events: Sequence[OutboxEvent]) -> dict[int, list[Target]]:
    """Per event, its targets (as `event_targets`): three queries for any number of events."""
    recipients_of = events_recipients(events)
    user_ids = {user.pk for users in recipients_of.values() for user in users}
    prefs: dict[tuple[int, str, str], bool] = {}
    hooks: dict[int, list[WebhookSubscription]] = {}
    if user_ids:
        kinds = {event.kind for event in events}
        prefs = {(p.user_id, p.kind, p.channel): p.enabled
                 for p in ChannelPreference.objects.filter(user_id__in=user_ids, kind__in=kinds)}
        for hook in WebhookSubscription.objects.filter(user_id__in=user_ids, is_active=True).order_by("pk"):
            hooks.setdefault(hook.user_id, []).append(hook)
    result = {}
    for event in events:
        targets = []
        customer = Recipients.from_json(event.recipients).customer
        if customer is not None and customer.email:
            targets.append(Target(Channel.EMAIL, customer.key, address=customer.email, language=customer.language))
        for user in recipients_of[event.pk]:
            def wants(channel, user=user, kind=event.kind):
                return prefs.get((user.pk, kind, channel), channel_default(kind, channel))

            language = _language_of(user)
            if wants(Channel.INBOX):
                targets.append(Target(Channel.INBOX, f"user:{user.pk}", user=user, language=language))
            if user.email and wants(Channel.EMAIL):
                targets.append(Target(Channel.EMAIL, f"user:{user.pk}", user=user, address=user.email,
                                      language=language))
            if wants(Channel.WEBHOOK):
                targets.extend(Target(Channel.WEBHOOK, f"hook:{hook.pk}", user=user, webhook=hook,
                                      language=language)
                               for hook in hooks.get(user.pk, []) if hook.wants(event.kind))
        result[event.pk] = targets
    return result


def _language_of(user) -> str:
    profile = getattr(user, "notification_profile", None)
    return profile.language if profile else settings.LANGUAGE_CODE


def user_language(user) -> str:
    """The language the user chose (pages and messages), read fresh: one query."""
    language = NotificationProfile.objects.filter(user=user).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE


# --- the inbox -----------------------------------------------------------------------------------

def inbox_list(*, user, unread_only: bool = False, unread_first: bool = False) -> QuerySet[InboxItem]:
    """The user's own inbox, newest first (`unread_first`: the unread ones before the read ones)."""
    qs = InboxItem.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if unread_first:
        unread = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
        return qs.order_by(unread, "-created_at", "-id")
    return qs.order_by("-created_at", "-id")


def inbox_unread_count(*, user) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()


def webhook_subscription_list(*, user) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(user=user).order_by("name", "id")


def events_about(*, subject: str, limit: int = 200) -> list[OutboxEvent]:
    """The events recorded about one subject ("promise:12"), oldest first, at most `limit` (the
    latest ones): one query. Who may read them is the caller's rule (the subject's owner app)."""
    if not subject:
        return []
    latest = list(OutboxEvent.objects.filter(subject=subject).select_related("actor")
                  .order_by("-created_at", "-id")[:limit])
    return latest[::-1]
