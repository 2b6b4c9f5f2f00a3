"""Conditions of a conditional go: the rules for setting them, and their trail.

A condition is met by its owner, lapses at its due time (the engine sends the promise back to
rework, services.gate_conditions_lapse_due) or is cancelled when its round ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from promises.models import ServicePromise, TrailSubject, TransitionLog

from .error_codes import GateErrorCode
from .models import ConditionState, GateCondition, GateReview


@dataclass(frozen=True)
class ConditionInput:
    """A condition as the decider sets it (parsed by the API's or the admin's form)."""

    description: str
    owner: AbstractBaseUser
    due_at: dt.datetime


def conditions_check(conditions: Sequence[ConditionInput], *, now: dt.datetime) -> None:
    """A condition says what is to be done, by an active user, by a time still to come."""
    errors: dict[str, str] = {}
    for i, item in enumerate(conditions):
        if not item.description.strip():
            errors[f"conditions[{i}]"] = _("A condition needs a description.")
        elif not item.owner.is_active:
            errors[f"conditions[{i}]"] = _("Condition owner %(owner)s is not an active user.") % {"owner": item.owner}
        elif timezone.is_naive(item.due_at):
            errors[f"conditions[{i}]"] = _("A condition needs a due date and time (with time zone).")
        elif item.due_at <= now:
            errors[f"conditions[{i}]"] = _("A condition's due date must lie in the future.")
    if errors:
        raise ValidationFailed(_("Some conditions are invalid."), code=GateErrorCode.INVALID_CONDITIONS, fields=errors)


def conditions_create(*, review: GateReview, conditions: Sequence[ConditionInput]) -> list[GateCondition]:
    return [GateCondition.objects.create(review=review, description=c.description.strip(), owner=c.owner,
                                         due_at=c.due_at)
            for c in conditions]


def condition_log(condition: GateCondition, action: str, *, promise_id: int, actor, comment: str,
                  at: dt.datetime) -> None:
    """The trail row of a condition leaving `open` (met, lapsed or cancelled)."""
    TransitionLog.objects.create(
        subject=TrailSubject.CONDITION, promise_id=promise_id, gate_review_id=condition.review_id, action=action,
        from_state=ConditionState.OPEN, to_state=condition.state, actor=actor, comment=comment, at=at,
    )


def conditions_cancel_open(*, promise: ServicePromise, actor, comment: str, now: dt.datetime | None = None,
                           except_id: int | None = None) -> None:
    """The round they belonged to is over (rework, rejection, withdrawal): they can no longer lapse."""
    now = now or timezone.now()
    for other in (GateCondition.objects.select_for_update().filter(review__promise=promise, state=ConditionState.OPEN)
                  .exclude(pk=except_id).order_by("id")):
        other.cancel(now=now)
        other.save()
        condition_log(other, "condition_cancelled", promise_id=promise.pk, actor=actor,
                      comment=f"{other.description}: {comment}", at=now)
