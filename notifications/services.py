"""Writes of the notifications app. `event_record` must be called inside the transaction of the
change that caused the event, so the event exists exactly when the change does."""

from __future__ import annotations

from .models import EventKind, OutboxEvent


def event_record(*, kind: EventKind | str, promise=None, gate_review=None, actor=None,
                 payload: dict | None = None) -> OutboxEvent:
    return OutboxEvent.objects.create(
        kind=kind, promise=promise, gate_review=gate_review, actor=actor, payload=payload or {},
    )
