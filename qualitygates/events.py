"""What the quality gates tell the notifications outbox: who hears of a gate's event, and the payload
its messages show. The one place that maps a gate event to its recipients."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import translation

from notifications.models import EventKind
from notifications.recipients import Recipients
from notifications.services import NewEvent, event_record
from promises.events import gate_review_payload, managers, owner, promise_payload, promise_subject
from promises.models import ServicePromise

from .models import Decision, GateReview

K = EventKind

# The owning team hears what asks for its decision; the promise's owner hears the verdict; an
# overdue gate escalates to the managers.
TEAM_KINDS = {K.GATE_OPENED, K.GATE_DUE_SOON, K.GATE_OVERDUE, K.GATE_RESUMED}
OWNER_KINDS = {K.GATE_DECIDED, K.CONDITION_LAPSED}
MANAGER_KINDS = {K.GATE_ESCALATED}
# What asks the team for a decision links to the gate's decision page; a verdict, and an escalation to
# the managers (who do not decide other teams' gates: the decision page would refuse them), to the
# promise's page, which says who decides next and since when.
DECIDE_PAGE_KINDS = TEAM_KINDS


def _recipients(kind: EventKind, promise: ServicePromise, review: GateReview) -> Recipients:
    if kind in TEAM_KINDS:
        return Recipients(team_ids=(review.owning_team_id,))
    if kind in MANAGER_KINDS:
        return managers()
    return owner(promise)


def decision_label(decision: str) -> str:
    """The decision's label untranslated: the message is translated when it is rendered, in the
    recipient's language."""
    with translation.override(None):
        return str(Decision(decision).label)


def gate_event(*, kind: EventKind, promise: ServicePromise, gate_review: GateReview, actor=None,
               payload: dict | None = None, now: dt.datetime | None = None) -> NewEvent:
    """A gate's event with its recipients and full payload, as the gate is at this moment (unsaved:
    ChangeWrites records it with the rest of the change)."""
    full = {**promise_payload(promise), **gate_review_payload(gate_review), "gate": gate_review.name,
            "gate_de": gate_review.name_de, **(payload or {})}
    if kind in DECIDE_PAGE_KINDS:
        full["link"] = reverse("web:gate-decide", args=[gate_review.pk])
    if full.get("decision") in Decision.values:
        full["decision_label"] = decision_label(full["decision"])
    return NewEvent(kind=kind, recipients=_recipients(kind, promise, gate_review), payload=full,
                    subject=promise_subject(promise), actor=actor, created_at=now)


def gate_event_record(*, kind: EventKind, promise: ServicePromise, gate_review: GateReview, actor=None,
                      payload: dict | None = None, key: str | None = None, now: dt.datetime | None = None):
    """Record a gate's event in the caller's transaction, with its recipients and full payload.
    Returns (event, recorded now)."""
    event = gate_event(kind=kind, promise=promise, gate_review=gate_review, actor=actor, payload=payload, now=now)
    return event_record(kind=event.kind, recipients=event.recipients, payload=event.payload, subject=event.subject,
                        actor=actor, key=key, now=now)
