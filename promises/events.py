"""What the promises app tells the notifications outbox: who hears of a promise's event, and the
payload its messages show. The one place that maps a promise event to its recipients."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import translation

from core import roles
from notifications.models import EventKind
from notifications.recipients import CustomerAddress, Recipients
from notifications.services import event_record

from .models import ServicePromise
from .status_link import status_path

K = EventKind

# The owner hears what happens to their promise; a rejection or a broken promise concerns the
# managers as well; the interim notice goes to the waiting customer only.
OWNER_KINDS = {K.PROMISE_SUBMITTED, K.PROMISE_APPROVED, K.PROMISE_ON_HOLD, K.PROMISE_RESUMED, K.PROMISE_REWORK,
               K.PROMISE_WITHDRAWN, K.PROMISE_COMMITTED, K.PROMISE_IN_DELIVERY, K.PROMISE_FULFILLED,
               K.PROMISE_CLOSED}
OWNER_AND_MANAGER_KINDS = {K.PROMISE_REJECTED, K.PROMISE_BROKEN}
CUSTOMER_KINDS = {K.INTERIM_NOTICE_DUE}


def promise_subject(promise: ServicePromise) -> str:
    """How an event names the promise it is about (the inbox and the API show it as the promise id)."""
    return f"promise:{promise.pk}"


def promise_payload(promise: ServicePromise) -> dict:
    """What every message about a promise shows, as it is at the moment of the event; the commitment
    in both languages, whichever the actor reads (each message picks its recipient's)."""
    with translation.override("en"):
        commitment = promise.commitment
    with translation.override("de"):
        commitment_de = promise.commitment
    return {
        "title": promise.title,
        "commitment": commitment,
        "commitment_de": commitment_de,
        "promise": {"id": promise.pk, "title": promise.title, "state": promise.state},
        # The product's page where the owner works on it (the e-mail makes it absolute with SITE_URL).
        "link": reverse("web:promise-detail", args=[promise.pk]),
    }


def gate_review_payload(review) -> dict:
    """The gate part of a payload (the gate review is passed in by qualitygates, which owns it)."""
    return {"gate_review": {"id": review.pk, "name": review.name, "state": review.state,
                            "due_at": review.due_at.isoformat() if review.due_at else None}}


def owner(promise: ServicePromise) -> Recipients:
    return Recipients(user_ids=(promise.owner_id,))


def managers() -> Recipients:
    return Recipients(group_names=(roles.MANAGERS,))


def customer(promise: ServicePromise) -> Recipients:
    if promise.customer_id is None:
        return Recipients()
    c = promise.customer
    return Recipients(customer=CustomerAddress(key=f"customer:{c.pk}", email=c.email, language=c.language))


def _recipients(kind: EventKind, promise: ServicePromise) -> Recipients:
    if kind in OWNER_AND_MANAGER_KINDS:
        return owner(promise) | managers()
    if kind in CUSTOMER_KINDS:
        return customer(promise)
    return owner(promise)


def promise_event_record(*, kind: EventKind, promise: ServicePromise, gate_review=None, actor=None,
                         payload: dict | None = None, key: str | None = None, now: dt.datetime | None = None):
    """Record a promise's event in the caller's transaction, with its recipients and full payload.
    Returns (event, recorded now)."""
    full = {**promise_payload(promise), **(gate_review_payload(gate_review) if gate_review else {}),
            **(payload or {})}
    if kind in CUSTOMER_KINDS and promise.customer_id and promise.status_token:
        # The link current when the event is recorded; a revoked one is never sent again.
        full.update(customer_name=promise.customer.name, customer_link=status_path(promise.status_token))
    return event_record(kind=kind, recipients=_recipients(kind, promise), payload=full,
                        subject=promise_subject(promise), actor=actor, key=key, now=now)
