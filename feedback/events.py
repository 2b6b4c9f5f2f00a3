"""What the feedback loop tells the notifications outbox: who hears of a KVP event, and the payload its
messages show. The one place that maps a feedback event to its recipients."""

from __future__ import annotations

import datetime as dt

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


def feedback_event_record(*, kind: EventKind, promise: ServicePromise | None = None, actor=None,
                          payload: dict | None = None, key: str | None = None, now: dt.datetime | None = None):
    """Record a feedback-loop event in the caller's transaction, with its recipients and full payload.
    Returns (event, recorded now)."""
    full = {**(promise_payload(promise) if promise is not None else {}), **(payload or {})}
    return event_record(kind=kind, recipients=_recipients(kind), payload=full,
                        subject=promise_subject(promise) if promise is not None else "", actor=actor, key=key,
                        now=now)
