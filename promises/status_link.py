"""The customer's status link: a secret URL to the promise's status page, without a login.

It is issued when the promise is committed (before that the customer has no promise to follow),
and the owner or a manager may revoke it or issue a new one (promises.services); a revoked token
is simply gone, so its page answers exactly like a token that never existed. Each issue, revocation
and re-issue is a row of the promise's trail.

The token is stored as it is, not hashed: the owner is shown the link whenever they look at the
promise, and interim notices send it again weeks later, so a hash would need a reversible copy
next to it, protecting nothing a database reader could not also read. It is 32 random bytes
(`models.new_status_token`), unique, and replaced — never derived — when re-issued.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from .models import PromiseState, ServicePromise, TrailSubject, TransitionLog, new_status_token

ISSUED, REVOKED, REISSUED = "status_link_issued", "status_link_revoked", "status_link_reissued"


def status_path(token: str) -> str:
    return reverse("promise-status", args=[token])


def status_url(promise: ServicePromise) -> str | None:
    """The absolute link the customer is given, or None while the promise has none."""
    if not promise.status_token:
        return None
    return settings.SITE_URL.rstrip("/") + status_path(promise.status_token)


def was_committed(promise: ServicePromise) -> bool:
    """Has the promise ever been given to the customer? (Rework or a hold after commitment keep it so.)"""
    return promise.state in (PromiseState.COMMITTED, PromiseState.IN_DELIVERY, PromiseState.FULFILLED,
                             PromiseState.BROKEN, PromiseState.CLOSED) or (
        TransitionLog.objects.filter(promise=promise, subject=TrailSubject.PROMISE, action="commit").exists())


def _log(promise: ServicePromise, action: str, *, actor, comment: str, now: dt.datetime) -> None:
    TransitionLog.objects.create(subject=TrailSubject.STATUS_LINK, promise=promise, action=action,
                                 from_state=promise.state, to_state=promise.state, actor=actor, comment=comment,
                                 at=now)


def status_link_set(promise: ServicePromise, action: str, *, actor, comment: str = "",
                    now: dt.datetime) -> ServicePromise:
    """Give the (locked) promise a fresh token, or none when revoking, and write it to the trail.
    Called by the promise services inside their transaction; the rules are theirs."""
    promise.status_token = None if action == REVOKED else new_status_token()
    # Not a state change: only the token column moves (the FSM field stays protected).
    ServicePromise.objects.filter(pk=promise.pk).update(status_token=promise.status_token)
    _log(promise, action, actor=actor, comment=comment, now=now)
    return promise
