"""The one way a promise changes state: run the FSM transition, save, log it, record the event.

Called by the promise and gate services inside their transaction; it never commits by itself.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from core.errors import CommonErrorCode, IllegalTransition
from notifications.models import EventKind

from .customer_view import customer_status
from .events import promise_event_record
from .models import PromiseState as S
from .models import ServicePromise, TrailSubject, TransitionLog
from .summaries import Outcome, promise_summaries_apply

EVENT_FOR_STATE = {
    S.IN_REVIEW: EventKind.PROMISE_SUBMITTED,
    S.APPROVED: EventKind.PROMISE_APPROVED,
    S.REJECTED: EventKind.PROMISE_REJECTED,
    S.ON_HOLD: EventKind.PROMISE_ON_HOLD,
    S.REWORK: EventKind.PROMISE_REWORK,
    S.WITHDRAWN: EventKind.PROMISE_WITHDRAWN,
    S.COMMITTED: EventKind.PROMISE_COMMITTED,
    S.IN_DELIVERY: EventKind.PROMISE_IN_DELIVERY,
    S.FULFILLED: EventKind.PROMISE_FULFILLED,
    S.BROKEN: EventKind.PROMISE_BROKEN,
    S.CLOSED: EventKind.PROMISE_CLOSED,
}


def apply_promise_transition(promise: ServicePromise, action: str, *, actor, comment: str = "",
                             gate_review=None, now: dt.datetime | None = None, **kwargs) -> ServicePromise:
    """Run `action` (with `kwargs`) on the promise. `now` stamps every entry of one change with the same
    moment: the caller's clock (a sweep's time, the demo's story), else the current time."""
    method = getattr(promise, action)
    before = promise.state
    outcome_before = Outcome.of(promise)
    label_before = customer_status(before, verified_kept=promise.kept).key
    try:
        method(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(
            _("A promise in state '%(state)s' cannot %(action)s.") % {"state": before, "action": action.replace("_", " ")},
            code=CommonErrorCode.ILLEGAL_TRANSITION,
        ) from exc
    now = now or timezone.now()
    if customer_status(promise.state, verified_kept=promise.kept).key != label_before:
        promise.customer_visible_at = now
    promise.save()
    promise_summaries_apply(promise, before=outcome_before)
    TransitionLog.objects.create(
        subject=TrailSubject.PROMISE, promise=promise, gate_review=gate_review, action=action, from_state=before, to_state=promise.state,
        actor=actor, comment=comment, at=now,
    )
    kind = EVENT_FOR_STATE.get(S(promise.state))
    if action == "resume":
        kind = EventKind.PROMISE_RESUMED
    if kind:
        promise_event_record(kind=kind, promise=promise, gate_review=gate_review, actor=actor, now=now,
                             payload={"from": before, "to": promise.state, "comment": comment})
    return promise
