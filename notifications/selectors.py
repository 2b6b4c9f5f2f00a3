"""Reads of the notifications app: who receives an event on which channel, the inbox, and what the
clock looks at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from core import roles

from .models import (
    Channel,
    ChannelPreference,
    CustomerNotice,
    EventKind,
    InboxItem,
    OutboxEvent,
    WebhookSubscription,
)

K = EventKind

# Who an event is for, following the domain.
TEAM_KINDS = {K.GATE_OPENED, K.GATE_DUE_SOON, K.GATE_OVERDUE, K.GATE_RESUMED}
OWNER_KINDS = {K.GATE_DECIDED, K.CONDITION_LAPSED, K.PROMISE_SUBMITTED, K.PROMISE_APPROVED, K.PROMISE_ON_HOLD,
               K.PROMISE_RESUMED, K.PROMISE_REWORK, K.PROMISE_WITHDRAWN, K.PROMISE_COMMITTED,
               K.PROMISE_IN_DELIVERY, K.PROMISE_FULFILLED, K.PROMISE_CLOSED}
OWNER_AND_MANAGER_KINDS = {K.PROMISE_REJECTED, K.PROMISE_BROKEN}
MANAGER_KINDS = {K.GATE_ESCALATED, K.WEEKLY_DIGEST, K.FEEDBACK_RECEIVED, K.IMPROVEMENT_PROPOSED,
                 K.IMPROVEMENT_CHANGED, K.EARLY_WARNING, K.GATE_ESCAPE_FLAGGED}
PROMISE_MAKER_KINDS = {K.GUIDANCE_PUBLISHED}
CUSTOMER_KINDS = {K.INTERIM_NOTICE_DUE}

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


def _recipient_filter(event: OutboxEvent) -> Q | None:
    kind = event.kind
    if kind in TEAM_KINDS and event.gate_review_id:
        return Q(groups__id=event.gate_review.owning_team_id)
    if kind in OWNER_KINDS and event.promise_id:
        return Q(pk=event.promise.owner_id)
    if kind in OWNER_AND_MANAGER_KINDS and event.promise_id:
        return Q(pk=event.promise.owner_id) | Q(groups__name=roles.MANAGERS)
    if kind in MANAGER_KINDS:
        return Q(groups__name=roles.MANAGERS)
    if kind in PROMISE_MAKER_KINDS:
        return Q(groups__name__in=roles.PROMISE_MAKER_TEAMS)
    return None


def event_recipients(event: OutboxEvent) -> list:
    """The users an event is for; never the person whose action caused it."""
    condition = _recipient_filter(event)
    if condition is None:
        return []
    User = get_user_model()
    ids = User.objects.filter(condition, is_active=True).exclude(pk=event.actor_id or 0).values("pk")
    return list(User.objects.filter(pk__in=ids).select_related("notification_profile").order_by("pk"))


def event_targets(event: OutboxEvent) -> list[Target]:
    """One target per recipient and channel they want for this kind: a fixed number of queries."""
    if event.kind in CUSTOMER_KINDS:
        customer = event.promise.customer if event.promise_id else None
        if customer is None or not customer.email:
            return []
        return [Target(Channel.EMAIL, f"customer:{customer.pk}", address=customer.email,
                       language=customer.language)]
    users = event_recipients(event)
    if not users:
        return []
    prefs = {(p.user_id, p.channel): p.enabled
             for p in ChannelPreference.objects.filter(user__in=users, kind=event.kind)}
    hooks: dict[int, list[WebhookSubscription]] = {}
    for hook in WebhookSubscription.objects.filter(user__in=users, is_active=True).order_by("pk"):
        hooks.setdefault(hook.user_id, []).append(hook)
    targets = []
    for user in users:
        def wants(channel, user=user):
            return prefs.get((user.pk, channel), channel_default(event.kind, channel))

        language = _language_of(user)
        if wants(Channel.INBOX):
            targets.append(Target(Channel.INBOX, f"user:{user.pk}", user=user, language=language))
        if user.email and wants(Channel.EMAIL):
            targets.append(Target(Channel.EMAIL, f"user:{user.pk}", user=user, address=user.email,
                                  language=language))
        if wants(Channel.WEBHOOK):
            targets.extend(Target(Channel.WEBHOOK, f"hook:{hook.pk}", user=user, webhook=hook, language=language)
                           for hook in hooks.get(user.pk, []) if hook.wants(event.kind))
    return targets


def _language_of(user) -> str:
    profile = getattr(user, "notification_profile", None)
    return profile.language if profile else settings.LANGUAGE_CODE


def channel_preferences_for_user(*, user) -> dict[str, dict[str, bool]]:
    """Every event kind with the user's effective choice per channel (their rows over the defaults)."""
    chosen = {(p.kind, p.channel): p.enabled for p in ChannelPreference.objects.filter(user=user)}
    return {kind: {ch: chosen.get((kind, ch), channel_default(kind, ch)) for ch in Channel.values}
            for kind in EventKind.values}


# --- the inbox -----------------------------------------------------------------------------------

def inbox_list(*, user, unread_only: bool = False) -> QuerySet[InboxItem]:
    qs = InboxItem.objects.filter(user=user).select_related("promise")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def inbox_unread_count(*, user) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()


def customer_notices_for_promise(*, promise_id: int) -> list[CustomerNotice]:
    return list(CustomerNotice.objects.filter(promise_id=promise_id).order_by("created_at", "id"))


# --- what the clock looks at ---------------------------------------------------------------------

def _calendars(team_ids: set[int]) -> dict:
    from qualitygates.models import WorkingCalendar
    from qualitygates.working_time import Calendar

    found = {c.team_id: Calendar.from_model(c)
             for c in WorkingCalendar.objects.filter(team_id__in=team_ids).prefetch_related("closures")}
    return {team_id: found.get(team_id, Calendar()) for team_id in team_ids}


def gate_reviews_open_not_due(*, now: dt.datetime) -> list[tuple]:
    """Open gates not yet due, each with its team's working calendar (one query for all calendars)."""
    from qualitygates.models import GateReview, ReviewState

    reviews = list(GateReview.objects.filter(state=ReviewState.OPEN, due_at__gt=now)
                   .select_related("promise").order_by("due_at", "id"))
    calendars = _calendars({r.owning_team_id for r in reviews})
    return [(r, calendars[r.owning_team_id]) for r in reviews]


def gate_reviews_overdue(*, now: dt.datetime) -> list:
    from qualitygates.models import GateReview, ReviewState

    return list(GateReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now)
                .select_related("promise").order_by("due_at", "id"))


def _interim_states_q() -> Q:
    from promises.models import PromiseState as S

    # On hold after commitment: the customer already has the promise and waits for news.
    return Q(state__in=[S.COMMITTED, S.IN_DELIVERY]) | (Q(state=S.ON_HOLD) & ~Q(state_before_hold=S.IN_REVIEW))


def promise_ids_needing_interim_notice(*, now: dt.datetime) -> list[int]:
    from promises.models import PromiseCategory, ServicePromise

    days = set(PromiseCategory.objects.values_list("interim_notice_days", flat=True).distinct())
    if not days:
        return []
    silent = Q()
    for n in days:
        silent |= Q(category__interim_notice_days=n, customer_visible_at__lte=now - dt.timedelta(days=n))
    return list(ServicePromise.objects.filter(_interim_states_q(), silent, customer__isnull=False)
                .exclude(customer__email="").order_by("customer_visible_at").values_list("pk", flat=True))


def needs_interim_notice(promise, *, now: dt.datetime) -> bool:
    from promises.models import ServicePromise

    return (ServicePromise.objects.filter(_interim_states_q(), pk=promise.pk).exists()
            and promise.customer_id is not None and bool(promise.customer.email)
            and promise.customer_visible_at <= now - dt.timedelta(days=promise.category.interim_notice_days))


def open_improvements(limit: int = 10) -> tuple[int | None, list[dict]]:
    """Open KVP items (count, the oldest few), or (None, []) while the feedback app has none."""
    try:
        from feedback.models import OPEN_IMPROVEMENT_STATES, ImprovementItem
    except ImportError:
        return None, []
    qs = ImprovementItem.objects.filter(state__in=OPEN_IMPROVEMENT_STATES)
    examples = [{"id": pk, "title": title, "state": state}
                for pk, title, state in qs.order_by("created_at", "id").values_list("pk", "title", "state")[:limit]]
    return qs.count(), examples


def weekly_digest_figures(*, now: dt.datetime) -> dict:
    from promises.models import PromiseState, ServicePromise
    from qualitygates.models import GateReview, ReviewState

    week_ago = now - dt.timedelta(days=7)
    broken = ServicePromise.objects.filter(state=PromiseState.BROKEN)
    broken_this_week = ServicePromise.objects.filter(
        trail__to_state=PromiseState.BROKEN, trail__at__gte=week_ago, trail__at__lt=now).distinct()
    overdue = GateReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now)
    improvements, improvement_examples = open_improvements()
    return {
        "week_ending": now.date().isoformat(),
        "open_improvements": improvements,
        "improvement_examples": improvement_examples,
        "broken_open": broken.count(),
        "broken_this_week": broken_this_week.count(),
        "broken_examples": [
            {"id": p.pk, "title": p.title, "reason": p.outcome_reason[:200]}
            for p in broken_this_week.only("pk", "title", "outcome_reason").order_by("-pk")[:10]
        ],
        "overdue_gates": overdue.count(),
        "overdue_examples": [
            {"id": r.pk, "gate": r.name, "promise_id": r.promise_id, "due_at": r.due_at.isoformat()}
            for r in overdue.order_by("due_at")[:10]
        ],
    }


def next_customer_update(promise) -> dt.datetime | None:
    """When the customer hears from us at the latest: the next interim notice, while one can be due."""
    from promises.models import PromiseState as S

    waiting = promise.state in (S.COMMITTED, S.IN_DELIVERY) or (
        promise.state == S.ON_HOLD and promise.state_before_hold != S.IN_REVIEW)
    if not waiting:
        return None
    return promise.customer_visible_at + dt.timedelta(days=promise.category.interim_notice_days)


def webhook_subscription_list(*, user) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(user=user).order_by("name", "id")
