"""Improvement items (KVP, a PDCA cycle): propose, then every move through the state machine, each
logged in the append-only trail and written to the outbox. Standardizing publishes the lesson."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NotRequired, TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from core.errors import CommonErrorCode, Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.roles import is_manager
from notifications.models import EventKind
from promises.models import PromiseCategory
from qualitygates.models import GateDefinition
from qualitygates.versioning import gate_plan_revise

from ..error_codes import FeedbackErrorCode
from ..events import feedback_event_record
from ..models import Feedback, ImprovementItem, ImprovementState, ImprovementTransition, Severity
from .access import require_team_member
from .guidance import guidance_publish_on
from .targets import TargetInput, targets_create, targets_measure, targets_problems

# The verb of each move, for the messages that name it.
ACTIONS = {
    "accept": gettext_lazy("accept"), "reject": gettext_lazy("reject"), "plan": gettext_lazy("plan"),
    "start": gettext_lazy("start"), "check_effect": gettext_lazy("check"), "rework": gettext_lazy("rework"),
    "standardize": gettext_lazy("standardize"), "abandon": gettext_lazy("abandon"),
}


class CriterionChange(TypedDict):
    """A new criterion of a gate definition, or the replacement of one (qualitygates.versioning)."""

    definition_id: int
    text: str
    requirement: NotRequired[str]
    weight: NotRequired[int]
    replaces_criterion_id: NotRequired[int | None]


def improvement_proposal_record(item: ImprovementItem, *, actor: AbstractBaseUser | None, now: dt.datetime,
                                kind: EventKind = EventKind.IMPROVEMENT_PROPOSED, extra: dict | None = None) -> None:
    """The first trail row of a new item and the outbox event that tells of it."""
    ImprovementTransition.objects.create(item=item, action="propose", from_state="", to_state=item.state,
                                         actor=actor, comment=item.description[:500], at=now)
    feedback_event_record(kind=kind, actor=actor,
                 payload={"improvement": item.pk, "title": item.title, "origin": item.origin, **(extra or {})},
                          now=now)


def improvement_propose(*, user: AbstractBaseUser, title: str, description: str = "",
                        category_ids: Iterable[int] = (), gate_definition_ids: Iterable[int] = (),
                        feedback_ids: Iterable[int] = (), now: dt.datetime | None = None) -> ImprovementItem:
    """Anyone in a team may propose an improvement; it links the feedback that motivated it."""
    now = now or timezone.now()
    require_team_member(user, _("Only members of a team may propose an improvement."))
    title = title.strip()
    if not title or len(title) > 200:
        raise ValidationFailed(_("An improvement needs a title of 1 to 200 characters."),
                               code=CommonErrorCode.INVALID, fields={"title": _("1 to 200 characters")})
    with transaction.atomic():
        item = ImprovementItem.objects.create(created_at=now, title=title, description=description, proposed_by=user)
        _link(item, category_ids=category_ids, gate_definition_ids=gate_definition_ids, feedback_ids=feedback_ids)
        improvement_proposal_record(item, actor=user, now=now)
    return item


def _link(item: ImprovementItem, *, category_ids: Iterable[int], gate_definition_ids: Iterable[int],
          feedback_ids: Iterable[int]) -> None:
    problems = {}
    for name, model, ids, relation in (
        ("category_ids", PromiseCategory, set(category_ids), item.categories),
        ("gate_definition_ids", GateDefinition, set(gate_definition_ids), item.gate_definitions),
        ("feedback_ids", Feedback, set(feedback_ids), item.feedback),
    ):
        if not ids:
            continue
        found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if found != ids:
            problems[name] = _("unknown id(s): %(ids)s") % {"ids": ", ".join(map(str, sorted(ids - found)))}
        else:
            relation.add(*found)
    if problems:
        raise ValidationFailed(_("The improvement links unknown records: %(problems)s") % {
            "problems": "; ".join(f"{k} {v}" for k, v in problems.items())},
            code=FeedbackErrorCode.UNKNOWN_LINK, fields=problems)


def _apply(item: ImprovementItem, action: str, *, actor: AbstractBaseUser, comment: str, now: dt.datetime,
           **kwargs) -> ImprovementItem:
    before = item.state
    try:
        getattr(item, action)(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(_("An improvement item that is %(state)s cannot %(action)s.") % {
            "state": ImprovementState(before).label, "action": ACTIONS[action]}) from exc
    item.save()
    ImprovementTransition.objects.create(item=item, action=action, from_state=before, to_state=item.state,
                                         actor=actor, comment=comment, at=now)
    feedback_event_record(kind=EventKind.IMPROVEMENT_CHANGED, actor=actor,
                          payload={"improvement": item.pk, "title": item.title, "from": before, "to": item.state,
                                   "comment": comment}, now=now)
    return item


def _transition(item_id: int, action: str, *, user: AbstractBaseUser, comment: str = "",
                now: dt.datetime | None = None, allow_owner: bool = False, comment_required: bool = False,
                prepare: Callable[[ImprovementItem, dt.datetime], None] | None = None,
                then: Callable[[ImprovementItem, dt.datetime], object] | None = None, **kwargs) -> ImprovementItem:
    now = now or timezone.now()
    comment = comment.strip()
    if comment_required and not comment:
        raise ValidationFailed(_("To %(action)s an improvement item needs a comment giving the reasons.") % {
            "action": ACTIONS[action]}, code=FeedbackErrorCode.COMMENT_REQUIRED, fields={"comment": _("required")})
    try:
        with transaction.atomic():
            item = ImprovementItem.objects.select_for_update().filter(pk=item_id).first()
            if item is None:
                raise NotFound(_("Improvement item %(id)s does not exist.") % {"id": item_id})
            if allow_owner and not (is_manager(user) or (item.owner_id and item.owner_id == user.pk)):
                raise NotAllowed(_("Only a manager or the item's owner may %(action)s an improvement item.") % {
                    "action": ACTIONS[action]}, code=CommonErrorCode.NOT_ALLOWED)
            if not allow_owner and not is_manager(user):
                raise NotAllowed(_("Only a manager may %(action)s an improvement item.") % {
                    "action": ACTIONS[action]}, code=CommonErrorCode.NOT_MANAGER)
            if prepare is not None and item.state == ImprovementState.CHECKING:
                prepare(item, now)  # in any other state the state machine refuses with the right message
            item = _apply(item, action, actor=user, comment=comment, now=now, **kwargs)
            if then is not None:
                then(item, now)  # what the move writes beside the item row, in its transaction
            return item
    except ConcurrentTransition as exc:
        raise Conflict(_("The improvement item was changed at the same moment; reload and try again.")) from exc


def improvement_accept(*, item_id: int, user: AbstractBaseUser, comment: str = "",
                       now: dt.datetime | None = None) -> ImprovementItem:
    return _transition(item_id, "accept", user=user, comment=comment, now=now)


def improvement_reject(*, item_id: int, user: AbstractBaseUser, comment: str,
                       now: dt.datetime | None = None) -> ImprovementItem:
    return _transition(item_id, "reject", user=user, comment=comment, now=now, comment_required=True)


def improvement_plan(*, item_id: int, user: AbstractBaseUser, owner: AbstractBaseUser, priority: Severity,
                     start_date: dt.date, due_date: dt.date, budget: Decimal, targets: Sequence[TargetInput],
                     comment: str = "", now: dt.datetime | None = None) -> ImprovementItem:
    """Plan: the item gets its SMART plan — owner, priority, schedule, budget and one or more measurable
    targets, each a catalogue metric with baseline, target value and deadline."""
    problems, code = targets_problems(targets, start_date=start_date)
    if not owner.is_active:
        problems["owner"] = _("required (an active user)")
    if budget < 0:
        problems["budget"] = _("must be at least 0")
    if due_date < start_date:
        problems["due_date"] = _("must not lie before the start")
    if problems:
        raise ValidationFailed(_("A planned improvement needs a SMART plan: %(problems)s") % {
            "problems": "; ".join(f"{k} {v}" for k, v in problems.items())},
            code=code or FeedbackErrorCode.PLAN_INCOMPLETE, fields=problems)
    return _transition(item_id, "plan", user=user, comment=comment, now=now, owner=owner, priority=priority,
                       start_date=start_date, due_date=due_date, budget=budget,
                       then=lambda item, at: targets_create(item, targets))


def improvement_start(*, item_id: int, user: AbstractBaseUser, comment: str = "",
                      now: dt.datetime | None = None) -> ImprovementItem:
    return _transition(item_id, "start", user=user, comment=comment, now=now, allow_owner=True)


def improvement_check(*, item_id: int, user: AbstractBaseUser, manual_values: Mapping[int, Decimal] | None = None,
                      measured_value: Decimal | None = None, note: str = "",
                      now: dt.datetime | None = None) -> ImprovementItem:
    """Check: the product measures every target over its scope and window (with the counts), next to the
    values typed by hand (by target id; `measured_value` for an item with one target), and says per
    target whether it was reached by its deadline."""
    now = now or timezone.now()
    return _transition(item_id, "check_effect", user=user, comment=note, now=now, allow_owner=True,
                       note=note.strip(), at=now,
                       then=lambda item, at: targets_measure(item, manual_values=manual_values or {},
                                                              single_value=measured_value, now=at))


def improvement_rework(*, item_id: int, user: AbstractBaseUser, comment: str,
                       now: dt.datetime | None = None) -> ImprovementItem:
    """Act on a check that fell short: back to in progress for another round."""
    return _transition(item_id, "rework", user=user, comment=comment, now=now, allow_owner=True,
                       comment_required=True)


def improvement_abandon(*, item_id: int, user: AbstractBaseUser, comment: str,
                        now: dt.datetime | None = None) -> ImprovementItem:
    return _transition(item_id, "abandon", user=user, comment=comment, now=now, comment_required=True)


def improvement_standardize(*, item_id: int, user: AbstractBaseUser, guidance_text: str = "",
                            guidance_category_ids: Iterable[int] | None = None,
                            criteria_changes: Iterable[CriterionChange] = (), comment: str = "",
                            now: dt.datetime | None = None) -> ImprovementItem:
    """Standardize: publish the lesson as guidance on categories and/or changed gate criteria.

    Criterion changes become a new version of each affected gate plan (qualitygates.versioning);
    promises submitted afterwards use it, running ones keep their snapshot.
    """
    now = now or timezone.now()
    changes = list(criteria_changes)
    guidance_text = guidance_text.strip()
    if not guidance_text and not changes:
        raise ValidationFailed(_("Standardizing publishes the lesson: give guidance text, a criterion change, "
                                 "or both."), code=FeedbackErrorCode.LESSON_REQUIRED)

    def publish(item: ImprovementItem, at: dt.datetime) -> None:
        if guidance_text:
            ids = list(guidance_category_ids) if guidance_category_ids is not None else list(
                item.categories.values_list("pk", flat=True))
            guidance_publish_on(category_ids=ids, text=guidance_text, actor=user, now=at, improvement=item)
            item.categories.add(*ids)
        definitions = GateDefinition.objects.in_bulk({c["definition_id"] for c in changes})
        by_plan: dict[int, list[CriterionChange]] = {}
        for i, change in enumerate(changes):
            definition = definitions.get(change["definition_id"])
            if definition is None:
                raise ValidationFailed(_("Criterion change %(n)d: gate definition %(id)s does not exist.") % {
                    "n": i, "id": change["definition_id"]}, code=FeedbackErrorCode.UNKNOWN_DEFINITION)
            by_plan.setdefault(definition.plan_id, []).append(change)
        for plan_id, plan_changes in by_plan.items():
            new_plan = gate_plan_revise(plan_id=plan_id, criteria_changes=plan_changes, now=now,
                                        change_note=_("Improvement #%(id)s: %(title)s") % {
                                            "id": item.pk, "title": item.title})
            item.categories.add(new_plan.category_id)
            item.gate_definitions.add(*[c["definition_id"] for c in plan_changes])

    return _transition(item_id, "standardize", user=user, comment=comment, now=now, prepare=publish, at=now)
