"""The gate engine: writes on gate reviews, and the promise moves they cause.

Every function runs in one transaction and locks the promise row first, then the review
row, so two deciders of the same gate are serialised: one wins, the other gets Conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager, is_member
from notifications.models import EventKind
from promises.models import CONDITION_LAPSE_STATES, PromiseState, ServicePromise, TrailSubject, TransitionLog
from promises.transitions import apply_promise_transition

from .events import gate_event_record
from .models import (
    STEP_ORDER,
    CheckResult,
    ConditionState,
    Decision,
    GateCheck,
    GateCondition,
    GatePlan,
    GateReview,
    GateStep,
    Requirement,
    ReviewState,
)
from .selectors import team_calendar
from .working_time import add_working_time, working_seconds_between

ACTIVE_REVIEW_STATES = [ReviewState.PENDING, ReviewState.OPEN, ReviewState.ON_HOLD]
DECIDED_REVIEW_STATES = [ReviewState.PASSED, ReviewState.FAILED, ReviewState.RECYCLED, ReviewState.ON_HOLD]
# Which promise state runs the gates of which step.
STEP_FOR_PROMISE_STATE = {
    PromiseState.IN_REVIEW: GateStep.APPROVAL,
    PromiseState.COMMITTED: GateStep.DELIVERY,
    PromiseState.FULFILLED: GateStep.CLOSURE,
    PromiseState.BROKEN: GateStep.CLOSURE,
}


# --- helpers used by the promise services -------------------------------------------------------

def _log_review(review: GateReview, action: str, before: str, *, actor, comment: str = "", now=None) -> None:
    TransitionLog.objects.create(
        subject=TrailSubject.GATE, promise_id=review.promise_id, gate_review=review, action=action,
        from_state=before, to_state=review.state, actor=actor, comment=comment, at=now or timezone.now(),
    )


def _review_transition(review: GateReview, action: str, *, actor, trail_comment: str = "",
                       at: dt.datetime | None = None, **kwargs) -> None:
    before = review.state
    try:
        getattr(review, action)(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(_("A gate review in state '%(state)s' cannot %(action)s.")
                                % {"state": before, "action": action}) from exc
    review.save()
    _log_review(review, action, before, actor=actor, comment=trail_comment, now=at or kwargs.get("now"))


def reviews_instantiate(*, promise: ServicePromise, plan: GatePlan, round_no: int) -> list[GateReview]:
    """Snapshot the plan's gates and criteria into pending reviews of this promise."""
    definitions = list(plan.definitions.prefetch_related("criteria").order_by("order", "id"))
    ordered = sorted(definitions, key=lambda d: (STEP_ORDER.index(d.step), d.order, d.id))
    reviews = GateReview.objects.bulk_create([
        GateReview(promise=promise, definition=d, round=round_no, order=i, name=d.name, step=d.step,
                   owning_team_id=d.owning_team_id, decision_hours=d.decision_hours)
        for i, d in enumerate(ordered, start=1)
    ])
    GateCheck.objects.bulk_create([
        GateCheck(review=review, criterion=c, order=c.order, text=c.text, requirement=c.requirement,
                  weight=c.weight)
        for review, d in zip(reviews, ordered, strict=True)
        for c in d.criteria.all()
    ])
    return reviews


def reviews_copy(*, promise: ServicePromise, source: Sequence[GateReview], round_no: int) -> list[GateReview]:
    """New pending reviews copied from earlier ones: a new round runs on the same snapshot."""
    sources = list(source)
    reviews = GateReview.objects.bulk_create([
        GateReview(promise=promise, definition_id=r.definition_id, round=round_no, order=r.order, name=r.name,
                   step=r.step, owning_team_id=r.owning_team_id, decision_hours=r.decision_hours)
        for r in sources
    ])
    checks = GateCheck.objects.filter(review__in=sources).order_by("review_id", "order", "id")
    by_source: dict[int, list[GateCheck]] = {}
    for check in checks:
        by_source.setdefault(check.review_id, []).append(check)
    GateCheck.objects.bulk_create([
        GateCheck(review=new, criterion_id=c.criterion_id, order=c.order, text=c.text,
                  requirement=c.requirement, weight=c.weight)
        for old, new in zip(sources, reviews, strict=True)
        for c in by_source.get(old.pk, [])
    ])
    return reviews


def snapshot_reviews(promise: ServicePromise, *, step: GateStep | None = None) -> list[GateReview]:
    """The promise's first-round reviews: its snapshot of the plan it was submitted with."""
    qs = promise.gate_reviews.filter(round=1).order_by("order", "id")
    if step:
        qs = qs.filter(step=step)
    return list(qs)


def reviews_cancel_active(*, promise: ServicePromise, actor, comment: str, now: dt.datetime | None = None) -> None:
    for review in promise.gate_reviews.filter(state__in=ACTIVE_REVIEW_STATES).order_by("order", "id"):
        _review_transition(review, "cancel", actor=actor, trail_comment=comment, at=now)


def step_start(*, promise: ServicePromise, step: GateStep, actor, now: dt.datetime | None = None) -> GateReview | None:
    """Open the first pending gate of a step for the promise's current round; None if the step has none."""
    now = now or timezone.now()
    review = (promise.gate_reviews.filter(step=step, state=ReviewState.PENDING)
              .order_by("-round", "order", "id").first())
    if review is None:
        return None
    due_at = add_working_time(now, review.decision_hours * 3600, team_calendar(review.owning_team_id))
    _review_transition(review, "open", actor=actor, now=now, due_at=due_at)
    gate_event_record(kind=EventKind.GATE_OPENED, promise=promise, gate_review=review, actor=actor,
                 payload={"gate": review.name, "due_at": due_at.isoformat(), "team_id": review.owning_team_id})
    return review


def step_complete(*, promise: ServicePromise, step: GateStep, actor, gate_review=None, comment: str = "",
                  now: dt.datetime | None = None) -> None:
    """All gates of the step passed (or it has none): move the promise on."""
    action = {GateStep.APPROVAL: "approve", GateStep.DELIVERY: "start_delivery", GateStep.CLOSURE: "close"}[step]
    apply_promise_transition(promise, action, actor=actor, comment=comment, gate_review=gate_review, now=now)


# --- decide ---------------------------------------------------------------------------------------

def _lock(review_id: int) -> tuple[ServicePromise, GateReview]:
    pk = as_id(review_id)
    promise_id = (GateReview.objects.filter(pk=pk).values_list("promise_id", flat=True).first()
                  if pk is not None else None)
    if promise_id is None:
        raise NotFound(_("Gate review %(id)s does not exist.") % {"id": review_id})
    promise = ServicePromise.objects.select_for_update().get(pk=promise_id)
    review = GateReview.objects.select_for_update().select_related("owning_team").get(pk=pk)
    return promise, review


def _require_decider(user, review: GateReview, promise: ServicePromise) -> None:
    if not is_member(user, review.owning_team_id):
        raise NotAllowed(
            _("Only members of the owning team '%(team)s' may decide the gate '%(gate)s'.")
            % {"team": review.owning_team.name, "gate": review.name},
            code="not_gate_team",
        )
    if promise.owner_id == user.pk:
        raise NotAllowed(_("Four-eyes rule: nobody decides a gate on a promise they own."), code="four_eyes")


def _apply_checks(review: GateReview, checks: Iterable[dict[str, Any]], *, decision: str) -> list[GateCheck]:
    existing = {c.pk: c for c in review.checks.all()}
    errors: dict[str, str] = {}
    seen: set[int] = set()
    for i, item in enumerate(checks):
        if not isinstance(item, dict):
            errors[f"checks[{i}]"] = _("A check is an object with check, result and note.")
            continue
        check_id = as_id(item.get("check", item.get("id")))
        result = item.get("result", "")
        note = item.get("note") or ""
        if not isinstance(note, str):
            errors[f"checks[{i}]"] = _("A check's note is text.")
            continue
        note = note.strip()
        if check_id not in existing:
            errors[f"checks[{i}]"] = _("Check %(id)r is not a criterion of this gate.") % {"id": item.get("check", item.get("id"))}
            continue
        if check_id in seen:
            errors[f"checks[{i}]"] = _("Check %(id)s is given twice.") % {"id": check_id}
            continue
        seen.add(check_id)
        if result not in (CheckResult.MET, CheckResult.NOT_MET, CheckResult.NOT_APPLICABLE):
            errors[f"checks[{i}]"] = _("A check's result is met, not_met or na.")
            continue
        if result == CheckResult.NOT_APPLICABLE and not note:
            errors[f"checks[{i}]"] = _("A criterion marked not applicable needs a note saying why.")
            continue
        check = existing[check_id]
        check.result, check.note = result, note
    if errors:
        raise ValidationFailed(_("Some criteria checks are invalid."), code="invalid_checks", fields=errors)
    if decision == Decision.GO:
        missing = [c.text for c in existing.values() if c.pk not in seen]
        if missing:
            raise ValidationFailed(
                _("A go needs a check for every criterion; missing: %(missing)s") % {"missing": "; ".join(missing)},
                code="checks_missing",
            )
        unmet = [c.text for c in existing.values() if c.requirement == Requirement.MUST and c.result != CheckResult.MET]
        if unmet:
            raise ValidationFailed(
                _("Go needs every must-meet criterion met; not met: %(unmet)s") % {"unmet": "; ".join(unmet)},
                code="must_criteria_unmet",
            )
    return [existing[pk] for pk in seen]


def _validate_conditions(conditions: Iterable[dict[str, Any]], *, now: dt.datetime) -> list[dict[str, Any]]:
    User = get_user_model()
    items = list(conditions)
    errors: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"conditions[{i}]"] = _("A condition is an object with description, owner and due_at.")
    if errors:
        raise ValidationFailed(_("Some conditions are invalid."), code="invalid_conditions", fields=errors)
    owner_ids = {as_id(c.get("owner")) for c in items} - {None}
    owners = User.objects.filter(pk__in=owner_ids, is_active=True).in_bulk()
    cleaned = []
    for i, item in enumerate(items):
        description = item.get("description") or ""
        description = description.strip() if isinstance(description, str) else ""
        owner = owners.get(as_id(item.get("owner")))
        due_at = item.get("due_at")
        if isinstance(due_at, str):
            # The API hands ISO 8601 text through; anything unparseable fails the check below.
            try:
                due_at = parse_datetime(due_at)
            except ValueError:
                due_at = None
        if not description:
            errors[f"conditions[{i}]"] = _("A condition needs a description.")
        elif owner is None:
            errors[f"conditions[{i}]"] = _("Condition owner %(owner)r is not an active user.") % {"owner": item.get("owner")}
        elif not isinstance(due_at, dt.datetime) or timezone.is_naive(due_at):
            errors[f"conditions[{i}]"] = _("A condition needs a due date and time (with time zone).")
        elif due_at <= now:
            errors[f"conditions[{i}]"] = _("A condition's due date must lie in the future.")
        elif len(description) > GateCondition._meta.get_field("description").max_length:
            errors[f"conditions[{i}]"] = _("A condition's description is at most 300 characters.")
        else:
            cleaned.append({"description": description, "owner": owner, "due_at": due_at})
    if errors:
        raise ValidationFailed(_("Some conditions are invalid."), code="invalid_conditions", fields=errors)
    return cleaned


def gate_decide(*, review_id: int, user, decision: str, comment: str = "",
                checks: Sequence[dict[str, Any]] = (), conditions: Sequence[dict[str, Any]] = ()) -> GateReview:
    """Decide an open gate: go (optionally with conditions), kill, hold or recycle.

    checks: [{"check": id, "result": "met" | "not_met" | "na", "note": text}], every criterion for a go;
    conditions (go only): [{"description": text, "owner": user id, "due_at": aware datetime or ISO text}]."""
    if decision not in Decision.values:
        raise ValidationFailed(_("Decision must be one of %(choices)s.") % {"choices": ", ".join(Decision.values)},
                               code="invalid_decision",
                               fields={"decision": "unknown decision"})
    if comment is not None and not isinstance(comment, str):
        raise ValidationFailed(_("The comment is text."), code="invalid", fields={"comment": _("not text")})
    comment = (comment or "").strip()
    for name, value in (("checks", checks), ("conditions", conditions)):
        if value is not None and not isinstance(value, list | tuple):
            raise ValidationFailed(_("%(name)s are a list.") % {"name": name.capitalize()}, code=f"invalid_{name}",
                                   fields={name: _("not a list")})
    checks = list(checks or ())
    conditions = list(conditions or ())
    if decision != Decision.GO and conditions:
        raise ValidationFailed(_("Only a go can carry conditions."), code="conditions_need_go")
    if decision in (Decision.KILL, Decision.HOLD, Decision.RECYCLE) and not comment:
        raise ValidationFailed(_("A %(decision)s needs a comment giving the reasons.") % {"decision": decision},
                               code="comment_required",
                               fields={"comment": _("required for this decision")})
    try:
        with transaction.atomic():
            promise, review = _lock(review_id)
            # Permission first: someone outside the team learns nothing about the gate's progress.
            _require_decider(user, review, promise)
            if review.state != ReviewState.OPEN:
                if review.state in DECIDED_REVIEW_STATES:
                    raise Conflict(_("The gate '%(gate)s' has already been decided (%(state)s).")
                                   % {"gate": review.name, "state": review.state},
                                   code="already_decided")
                raise IllegalTransition(_("The gate '%(gate)s' is %(state)s, not open for a decision.")
                                        % {"gate": review.name, "state": review.state})
            if decision == Decision.KILL and review.step == GateStep.CLOSURE:
                raise ValidationFailed(_("A closure gate cannot kill a delivered promise; recycle sends the "
                                         "verification back."), code="kill_at_closure")
            now = timezone.now()
            touched = _apply_checks(review, checks, decision=decision)
            cleaned_conditions = _validate_conditions(conditions, now=now) if conditions else []
            GateCheck.objects.bulk_update(touched, ["result", "note"])
            _decide(promise, review, decision, user=user, now=now, comment=comment, conditions=cleaned_conditions)
    except ConcurrentTransition as exc:
        raise Conflict(_("Someone else changed this gate at the same moment; reload and try again."),
                       code="concurrent_change") from exc
    return review


def _decide(promise, review, decision, *, user, now, comment, conditions) -> None:
    if decision == Decision.HOLD:
        remaining = working_seconds_between(now, review.due_at, team_calendar(review.owning_team_id))
        _review_transition(review, "hold", actor=user, trail_comment=comment, user=user, now=now,
                           comment=comment, remaining_seconds=int(max(0, remaining)))
    else:
        _review_transition(review, decision, actor=user, trail_comment=comment, user=user, now=now, comment=comment)
    for c in conditions:
        GateCondition.objects.create(review=review, description=c["description"], owner=c["owner"], due_at=c["due_at"])
    gate_event_record(kind=EventKind.GATE_DECIDED, promise=promise, gate_review=review, actor=user,
                 payload={"gate": review.name, "decision": decision, "comment": comment,
                          "conditions": len(conditions)})

    if decision == Decision.GO:
        if step_start(promise=promise, step=review.step, actor=user, now=now) is None:
            step_complete(promise=promise, step=review.step, actor=user, gate_review=review, now=now,
                          comment=f"All gates of step '{review.get_step_display()}' passed.")
    elif decision == Decision.KILL:
        reviews_cancel_active(promise=promise, actor=user, comment="Promise rejected at gate " + review.name,
                              now=now)
        conditions_cancel_open(promise=promise, actor=user, comment="Promise rejected at gate " + review.name,
                               now=now)
        apply_promise_transition(promise, "reject", actor=user, comment=comment, gate_review=review, now=now)
    elif decision == Decision.HOLD:
        apply_promise_transition(promise, "hold", actor=user, comment=comment, gate_review=review, now=now)
    elif decision == Decision.RECYCLE:
        if review.step == GateStep.CLOSURE:
            pending = snapshot_reviews(promise, step=GateStep.CLOSURE)
            reviews_cancel_active(promise=promise, actor=user, comment="Verification recycled at " + review.name,
                                  now=now)
            reviews_copy(promise=promise, source=pending, round_no=review.round)
            apply_promise_transition(promise, "reopen_verification", actor=user, comment=comment,
                                     gate_review=review, now=now)
        else:
            reviews_cancel_active(promise=promise, actor=user, comment="Recycled at gate " + review.name, now=now)
            conditions_cancel_open(promise=promise, actor=user, comment="Recycled at gate " + review.name, now=now)
            apply_promise_transition(promise, "send_to_rework", actor=user, comment=comment, gate_review=review,
                                     now=now)


def gate_resume(*, review_id: int, user, comment: str = "") -> GateReview:
    """Resume a gate put on hold: the promise returns to where it was and the clock runs again."""
    try:
        with transaction.atomic():
            promise, review = _lock(review_id)
            if review.state != ReviewState.ON_HOLD:
                raise IllegalTransition(_("The gate '%(gate)s' is %(state)s, not on hold.")
                                        % {"gate": review.name, "state": review.state})
            if not (is_member(user, review.owning_team_id) or is_manager(user)):
                raise NotAllowed(_("Only the owning team or a manager may resume a gate on hold."),
                                 code="not_gate_team")
            if promise.owner_id == user.pk:
                raise NotAllowed(_("Four-eyes rule: nobody resumes a gate on a promise they own."), code="four_eyes")
            now = timezone.now()
            remaining = review.remaining_seconds_at_hold or 0
            due_at = add_working_time(now, remaining, team_calendar(review.owning_team_id))
            _review_transition(review, "resume", actor=user, trail_comment=comment, at=now, due_at=due_at)
            apply_promise_transition(promise, "resume", actor=user, comment=comment, gate_review=review, now=now)
            gate_event_record(kind=EventKind.GATE_RESUMED, promise=promise, gate_review=review, actor=user,
                         payload={"gate": review.name, "due_at": due_at.isoformat()})
    except ConcurrentTransition as exc:
        raise Conflict(_("Someone else changed this gate at the same moment; reload and try again.")) from exc
    return review


# --- conditions of a conditional go ------------------------------------------------------------

def gate_condition_meet(*, condition_id: int, user, note: str = "") -> GateCondition:
    with transaction.atomic():
        pk = as_id(condition_id)
        condition = (GateCondition.objects.select_for_update().select_related("review")
                     .filter(pk=pk).first()) if pk is not None else None
        if condition is None:
            raise NotFound(_("Gate condition %(id)s does not exist.") % {"id": condition_id})
        if not (user.pk == condition.owner_id or is_member(user, condition.review.owning_team_id)
                or is_manager(user)):
            raise NotAllowed(_("Only the condition's owner, the gate's team or a manager may mark it met."),
                             code="not_condition_owner")
        if condition.state != ConditionState.OPEN:
            raise IllegalTransition(_("The condition is %(state)s, not open.") % {"state": condition.state})
        now = timezone.now()
        condition.meet(user=user, now=now, note=note)
        condition.save()
        TransitionLog.objects.create(
            subject=TrailSubject.CONDITION, promise_id=condition.review.promise_id, gate_review=condition.review,
            action="condition_met", from_state=ConditionState.OPEN, to_state=ConditionState.MET, actor=user,
            comment=f"{condition.description}: {note}".strip(": "), at=now,
        )
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
            TransitionLog.objects.create(
                subject=TrailSubject.CONDITION, promise=promise, gate_review=condition.review,
                action="condition_lapsed", from_state=ConditionState.OPEN, to_state=ConditionState.LAPSED,
                comment=reason, at=now,
            )
            gate_event_record(kind=EventKind.CONDITION_LAPSED, promise=promise, gate_review=condition.review,
                         payload={"condition": condition.description})
            if promise.state in CONDITION_LAPSE_STATES:
                reviews_cancel_active(promise=promise, actor=None, comment=reason, now=now)
                conditions_cancel_open(promise=promise, actor=None, comment=reason, now=now, except_id=condition.pk)
                apply_promise_transition(promise, "send_to_rework", actor=None, comment=reason,
                                         gate_review=condition.review, now=now)
            lapsed += 1
    return lapsed


def conditions_cancel_open(*, promise: ServicePromise, actor, comment: str, now: dt.datetime | None = None,
                           except_id: int | None = None) -> None:
    """The round they belonged to is over (rework, rejection, withdrawal): they can no longer lapse."""
    now = now or timezone.now()
    for other in (GateCondition.objects.select_for_update().filter(review__promise=promise, state=ConditionState.OPEN)
                  .exclude(pk=except_id).order_by("id")):
        other.cancel(now=now)
        other.save()
        TransitionLog.objects.create(
            subject=TrailSubject.CONDITION, promise=promise, gate_review_id=other.review_id,
            action="condition_cancelled", from_state=ConditionState.OPEN, to_state=ConditionState.CANCELLED,
            actor=actor, comment=f"{other.description}: {comment}", at=now,
        )
