"""The gate engine: writes on gate reviews, and the promise moves they cause.

Every function runs in one transaction and locks the promise row first, then the review
row, so two deciders of the same gate are serialised: one wins, the other gets Conflict.
The snapshot of a promise's gates lives in reviews.py, the rules of a decision's checks and
conditions in checks.py and conditions.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager, is_member
from notifications.models import EventKind
from promises.models import CONDITION_LAPSE_STATES, PromiseState, ServicePromise
from promises.transitions import apply_promise_transition

from .checks import CheckInput, checks_apply, checks_save
from .conditions import (
    ConditionInput,
    condition_log,
    conditions_cancel_open,
    conditions_check,
    conditions_create,
)
from .error_codes import GateErrorCode
from .events import gate_event, gate_event_record
from .evidence import evidence_overrides_log, review_evidence_prepare
from .models import ConditionState, Decision, GateCondition, GateReview, GateStep, ReviewState
from .reviews import (
    next_pending_review,
    review_transition,
    reviews_cancel_active,
    reviews_copy,
    snapshot_reviews,
)
from .selectors import gate_decider_refusal, gate_review_decided, team_calendar
from .working_time import Calendar, add_working_time, working_seconds_between
from .writes import ChangeWrites

DECIDED_REVIEW_STATES = [ReviewState.PASSED, ReviewState.FAILED, ReviewState.RECYCLED, ReviewState.ON_HOLD]


def step_start(*, promise: ServicePromise, step: GateStep, actor, now: dt.datetime | None = None,
               writes: ChangeWrites | None = None) -> GateReview | None:
    """Open the first pending gate of a step for the promise's current round; None if the step has none.
    Its trail row and event go to `writes` when given, else they are written at once."""
    now = now or timezone.now()
    review = next_pending_review(promise_id=promise.pk, step=step)
    if review is None:
        return None
    own = writes is None
    writes = ChangeWrites() if own else writes
    calendar = team_calendar(review.owning_team_id) if review.has_calendar else Calendar()
    due_at = add_working_time(now, review.decision_hours * 3600, calendar)
    review_evidence_prepare(review, promise=promise, now=now, has_evidence_checks=review.has_evidence_checks)
    review_transition(review, "open", actor=actor, at=now, writes=writes, also_save=["evidence"], now=now,
                      due_at=due_at)
    writes.events.append(gate_event(kind=EventKind.GATE_OPENED, promise=promise, gate_review=review, actor=actor,
                                    now=now, payload={"gate": review.name, "due_at": due_at.isoformat(),
                                                      "team_id": review.owning_team_id}))
    if own:
        writes.flush()
    return review


def step_complete(*, promise: ServicePromise, step: GateStep, actor, gate_review=None, comment: str = "",
                  now: dt.datetime | None = None) -> None:
    """All gates of the step passed (or it has none): move the promise on."""
    action = {GateStep.APPROVAL: "approve", GateStep.DELIVERY: "start_delivery", GateStep.CLOSURE: "close"}[step]
    apply_promise_transition(promise, action, actor=actor, comment=comment, gate_review=gate_review, now=now)


# --- decide ---------------------------------------------------------------------------------------

def _lock(review_id: int) -> tuple[ServicePromise, GateReview]:
    """Lock the promise row, then the review row, in one statement (FOR UPDATE OF takes them in this
    order, the order every service locks in). The promise comes with what its events and evidence read."""
    pk = as_id(review_id)
    try:
        review = (GateReview.objects.select_related("promise__category", "promise__metric", "owning_team")
                  .select_for_update(of=("promise", "self")).get(pk=pk)) if pk is not None else None
    except GateReview.DoesNotExist:
        review = None
    if review is None:
        raise NotFound(_("Gate review %(id)s does not exist.") % {"id": review_id})
    return review.promise, review


def _require_decider(user, review: GateReview, promise: ServicePromise) -> None:
    # The rule lives with the reads: the pages offer Decide by the same function.
    refusal = gate_decider_refusal(user, review=review, promise_owner_id=promise.owner_id)
    if refusal is not None:
        raise refusal


def gate_decide(*, review_id: int, user, decision: Decision, comment: str = "", checks: Sequence[CheckInput] = (),
                conditions: Sequence[ConditionInput] = (), now: dt.datetime | None = None) -> GateReview:
    """Decide an open gate: go (optionally with conditions), kill, hold or recycle.

    A go needs a check of every criterion and every must-meet one met; kill, hold and recycle
    need a comment giving the reasons; only a go carries conditions. Returns the decided review
    with its promise, team, checks and conditions loaded (selectors.gate_review_decided)."""
    comment = comment.strip()
    if decision != Decision.GO and conditions:
        raise ValidationFailed(_("Only a go can carry conditions."), code=GateErrorCode.CONDITIONS_NEED_GO)
    if decision in (Decision.KILL, Decision.HOLD, Decision.RECYCLE) and not comment:
        raise ValidationFailed(_("A %(decision)s needs a comment giving the reasons.") % {"decision": decision},
                               code=GateErrorCode.COMMENT_REQUIRED,
                               fields={"comment": _("required for this decision")})
    try:
        with transaction.atomic():
            promise, review = _lock(review_id)
            # Permission first: someone outside the team learns nothing about the gate's progress.
            _require_decider(user, review, promise)
            if review.state != ReviewState.OPEN:
                if review.state in DECIDED_REVIEW_STATES:
                    raise Conflict(_("The gate '%(gate)s' has already been decided (%(state)s).")
                                   % {"gate": review.display_name, "state": review.state},
                                   code=GateErrorCode.ALREADY_DECIDED)
                raise IllegalTransition(_("The gate '%(gate)s' is %(state)s, not open for a decision.")
                                        % {"gate": review.display_name, "state": review.state})
            if decision == Decision.KILL and review.step == GateStep.CLOSURE:
                raise ValidationFailed(_("A closure gate cannot kill a delivered promise; recycle sends the "
                                         "verification back."), code=GateErrorCode.KILL_AT_CLOSURE)
            now = now or timezone.now()
            touched = checks_apply(review, checks, decision=decision)
            conditions_check(conditions, now=now)
            checks_save(touched)
            writes = ChangeWrites()
            writes.trail.extend(evidence_overrides_log(review, touched, actor=user, at=now))
            created = _decide(promise, review, decision, user=user, now=now, comment=comment,
                              conditions=conditions, writes=writes)
            writes.flush()
    except ConcurrentTransition as exc:
        raise Conflict(_("Someone else changed this gate at the same moment; reload and try again."),
                       code=GateErrorCode.CONCURRENT_CHANGE) from exc
    # Only a go carries conditions, and a gate is decided once per opening: these are all it has.
    return gate_review_decided(review, checks=review.decision_checks, conditions=created)


def _decide(promise, review, decision, *, user, now, comment, conditions,
            writes: ChangeWrites) -> list[GateCondition]:
    """The decision's own writes go to `writes`; before anything that writes its own trail rows (a
    promise transition, cancelled gates and conditions) they are flushed, so the trail keeps its order.
    Returns the conditions it set."""
    if decision == Decision.HOLD:
        remaining = working_seconds_between(now, review.due_at, team_calendar(review.owning_team_id))
        review_transition(review, "hold", actor=user, at=now, trail_comment=comment, writes=writes, user=user,
                          now=now, comment=comment, remaining_seconds=int(max(0, remaining)))
    else:
        review_transition(review, decision, actor=user, at=now, trail_comment=comment, writes=writes, user=user,
                          now=now, comment=comment)
    created = conditions_create(review=review, conditions=conditions)
    writes.events.append(gate_event(kind=EventKind.GATE_DECIDED, promise=promise, gate_review=review, actor=user,
                                    now=now, payload={"gate": review.name, "decision": decision,
                                                      "comment": comment, "conditions": len(conditions)}))

    # The engine's own notes go into the append-only trail in English; the promise page translates
    # them for its reader (web/views/promises/timeline.py, SYSTEM_COMMENTS).
    if decision == Decision.GO:
        if step_start(promise=promise, step=review.step, actor=user, now=now, writes=writes) is None:
            writes.flush()
            with translation.override("en"):  # the page translates the engine's notes when it shows them
                passed = f"All gates of step '{review.get_step_display()}' passed."
            step_complete(promise=promise, step=review.step, actor=user, gate_review=review, now=now, comment=passed)
        return created
    writes.flush()
    if decision == Decision.KILL:
        rejected = f"Promise rejected at gate {review.name}"
        reviews_cancel_active(promise=promise, actor=user, comment=rejected, now=now)
        conditions_cancel_open(promise=promise, actor=user, comment=rejected, now=now)
        apply_promise_transition(promise, "reject", actor=user, comment=comment, gate_review=review, now=now)
    elif decision == Decision.HOLD:
        apply_promise_transition(promise, "hold", actor=user, comment=comment, gate_review=review, now=now)
    elif decision == Decision.RECYCLE:
        if review.step == GateStep.CLOSURE:
            pending = snapshot_reviews(promise, step=GateStep.CLOSURE)
            reviews_cancel_active(promise=promise, actor=user, now=now,
                                  comment=f"Verification recycled at {review.name}")
            reviews_copy(promise=promise, source=pending, round_no=review.round)
            apply_promise_transition(promise, "reopen_verification", actor=user, comment=comment,
                                     gate_review=review, now=now)
        else:
            recycled = f"Recycled at gate {review.name}"
            reviews_cancel_active(promise=promise, actor=user, comment=recycled, now=now)
            conditions_cancel_open(promise=promise, actor=user, comment=recycled, now=now)
            apply_promise_transition(promise, "send_to_rework", actor=user, comment=comment, gate_review=review,
                                     now=now)
    return created


def gate_resume(*, review_id: int, user, comment: str = "", now: dt.datetime | None = None) -> GateReview:
    """Resume a gate put on hold: the promise returns to where it was and the clock runs again."""
    try:
        with transaction.atomic():
            promise, review = _lock(review_id)
            if review.state != ReviewState.ON_HOLD:
                raise IllegalTransition(_("The gate '%(gate)s' is %(state)s, not on hold.")
                                        % {"gate": review.display_name, "state": review.state})
            if not (is_member(user, review.owning_team_id) or is_manager(user)):
                raise NotAllowed(_("Only the owning team or a manager may resume a gate on hold."),
                                 code=GateErrorCode.NOT_GATE_TEAM)
            if promise.owner_id == user.pk:
                raise NotAllowed(_("Four-eyes rule: nobody resumes a gate on a promise they own."),
                                 code=GateErrorCode.FOUR_EYES)
            now = now or timezone.now()
            remaining = review.remaining_seconds_at_hold or 0
            due_at = add_working_time(now, remaining, team_calendar(review.owning_team_id))
            review_transition(review, "resume", actor=user, trail_comment=comment, at=now, due_at=due_at)
            apply_promise_transition(promise, "resume", actor=user, comment=comment, gate_review=review, now=now)
            gate_event_record(kind=EventKind.GATE_RESUMED, promise=promise, gate_review=review, actor=user,
                              now=now, payload={"gate": review.name, "due_at": due_at.isoformat()})
    except ConcurrentTransition as exc:
        raise Conflict(_("Someone else changed this gate at the same moment; reload and try again.")) from exc
    return review


# --- conditions of a conditional go ------------------------------------------------------------

def gate_condition_meet(*, condition_id: int, user, note: str = "", now: dt.datetime | None = None) -> GateCondition:
    with transaction.atomic():
        pk = as_id(condition_id)
        condition = (GateCondition.objects.select_for_update().select_related("review")
                     .filter(pk=pk).first()) if pk is not None else None
        if condition is None:
            raise NotFound(_("Gate condition %(id)s does not exist.") % {"id": condition_id})
        if not (user.pk == condition.owner_id or is_member(user, condition.review.owning_team_id)
                or is_manager(user)):
            raise NotAllowed(_("Only the condition's owner, the gate's team or a manager may mark it met."),
                             code=GateErrorCode.NOT_CONDITION_OWNER)
        if condition.state != ConditionState.OPEN:
            raise IllegalTransition(_("The condition is %(state)s, not open.") % {"state": condition.state})
        now = now or timezone.now()
        note = note.strip()
        condition.meet(user=user, now=now, note=note)
        condition.save()
        condition_log(condition, "condition_met", promise_id=condition.review.promise_id, actor=user,
                      comment=f"{condition.description}: {note}".strip(": "), at=now)
    return condition


def gate_conditions_lapse_due(*, now: dt.datetime | None = None) -> int:
    """Send promises with a condition past its due time back to rework. Safe to run any number of times."""
    now = now or timezone.now()
    lapsed = 0
    due_ids = list(GateCondition.objects.filter(state=ConditionState.OPEN, due_at__lte=now)
                   .values_list("pk", flat=True))
    for condition_id in due_ids:
        with transaction.atomic():
            condition = GateCondition.objects.select_related("review").get(pk=condition_id)
            promise = ServicePromise.objects.select_for_update().get(pk=condition.review.promise_id)
            condition = GateCondition.objects.select_for_update().select_related("review").get(pk=condition_id)
            if condition.state != ConditionState.OPEN:
                continue
            if promise.state == PromiseState.ON_HOLD:
                continue  # the clock is stopped; it lapses once the promise is resumed
            condition.lapse(now=now)
            condition.save()
            reason = f"Condition of gate '{condition.review.name}' lapsed: {condition.description}"
            condition_log(condition, "condition_lapsed", promise_id=promise.pk, actor=None, comment=reason, at=now)
            gate_event_record(kind=EventKind.CONDITION_LAPSED, promise=promise, gate_review=condition.review,
                              now=now, payload={"condition": condition.description})
            if promise.state in CONDITION_LAPSE_STATES:
                reviews_cancel_active(promise=promise, actor=None, comment=reason, now=now)
                conditions_cancel_open(promise=promise, actor=None, comment=reason, now=now, except_id=condition.pk)
                apply_promise_transition(promise, "send_to_rework", actor=None, comment=reason,
                                         gate_review=condition.review, now=now)
            lapsed += 1
    return lapsed
