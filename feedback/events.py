"""What the feedback loop tells the notifications outbox: who hears of a KVP event, and the payload its
messages show. The one place that maps a feedback event to its recipients."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from core import roles
from notifications.models import EventKind
from notifications.recipients import Recipients
from notifications.services import event_record
from promises.events import managers, promise_payload, promise_subject
from promises.models import ServicePromise

K = EventKind

# Guidance is for the people who make the next promise; everything else of the loop (feedback,
# improvements, early warnings, escaping gates, the digest) is for the managers who run the board.
PROMISE_MAKER_KINDS = {K.GUIDANCE_PUBLISHED}


def _recipients(kind: EventKind) -> Recipients:
    if kind in PROMISE_MAKER_KINDS:
        return Recipients(group_names=roles.PROMISE_MAKER_TEAMS)
    return managers()


def _link(kind: EventKind, payload: dict) -> str:
    """The product's page where the event's work is done: an improvement's item on the KVP board,
    new guidance where the next promise is made, the digest on the dashboard; a feedback on a
    promise keeps the promise's page; other feedback goes to the dashboard's feedback figures."""
    if kind == K.GUIDANCE_PUBLISHED:
        category = payload.get("category")
        return reverse("web:promise-new") + (f"?category={category}" if category else "")
    if kind == K.WEEKLY_DIGEST:
        return reverse("web:dashboard")
    if payload.get("improvement"):
        return reverse("web:kvp-item", args=[payload["improvement"]])
    return payload.get("link") or reverse("web:dashboard")


def feedback_event_record(*, kind: EventKind, promise: ServicePromise | None = None, actor=None,
                          payload: dict | None = None, key: str | None = None, now: dt.datetime | None = None):
    """Record a feedback-loop event in the caller's transaction, with its recipients and full payload.
    Returns (event, recorded now)."""
    full = {**(promise_payload(promise) if promise is not None else {}), **(payload or {})}
    full["link"] = _link(kind, full)
    return event_record(kind=kind, recipients=_recipients(kind), payload=full,
                        subject=promise_subject(promise) if promise is not None else "", actor=actor, key=key,
                        now=now)
