"""Gate plan edits as managers make them on the plan page: the whole plan (gates and their criteria)
at once.

A plan no promise was submitted with is edited in place. Once a promise uses it, an edit becomes a
new version of the plan instead, as the KVP loop's revisions do (versioning.py): promises submitted
afterwards get the new version, running promises keep the plan and the gate snapshot they started
with. Only the current version of a category's plan can be edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, Conflict, NotAllowed, NotFound, ValidationFailed
from core.roles import is_manager
from promises.models import PromiseCategory

from .error_codes import GateErrorCode
from .models import CriterionKind, GateCriterion, GateDefinition, GatePlan


@dataclass(frozen=True)
class CriterionDraft:
    """One criterion as the plan page submits it; `criterion_id` names the row it edits, if any."""

    order: int
    text: str
    requirement: str
    weight: int
    criterion_id: int | None = None
    kind: str = CriterionKind.MANUAL
    text_de: str = ""
    evidence_min_share: Decimal | None = None


@dataclass(frozen=True)
class GateDraft:
    """One gate definition with its criteria; `definition_id` names the row it edits, if any."""

    order: int
    name: str
    step: str
    owning_team: Group
    decision_hours: int
    description: str
    criteria: tuple[CriterionDraft, ...]
    definition_id: int | None = None
    name_de: str = ""


def _require_manager(user) -> None:
    if not is_manager(user):
        raise NotAllowed(_("Only managers configure gate plans."), code=CommonErrorCode.NOT_MANAGER)


def _definition_fields(gate: GateDraft) -> dict:
    return {"order": gate.order, "name": gate.name, "name_de": gate.name_de, "step": gate.step,
            "owning_team": gate.owning_team,
            "decision_hours": gate.decision_hours, "description": gate.description}


def _check_criteria(gates: Sequence[GateDraft]) -> None:
    """An evidence criterion names the share of comparable promises it needs (above 0, at most 1);
    a criterion the gatekeeper checks names none."""
    for gate in gates:
        for c in gate.criteria:
            share = c.evidence_min_share
            if (c.kind == CriterionKind.EVIDENCE) != (share is not None) or (share is not None
                                                                             and not 0 < share <= 1):
                raise ValidationFailed(
                    _("The criterion '%(text)s': an evidence criterion needs a minimum share above 0 and at most "
                      "1; a manual one has none.") % {"text": c.text},
                    code=GateErrorCode.INVALID_CRITERION_CHANGE, fields={"evidence_min_share": _("invalid")})


def _criterion_fields(criterion: CriterionDraft) -> dict:
    return {"order": criterion.order, "text": criterion.text, "text_de": criterion.text_de,
            "requirement": criterion.requirement,
            "weight": criterion.weight, "kind": criterion.kind, "evidence_min_share": criterion.evidence_min_share}


def _create_gates(plan: GatePlan, gates: Sequence[GateDraft]) -> None:
    for gate in gates:
        definition = GateDefinition.objects.create(plan=plan, **_definition_fields(gate))
        GateCriterion.objects.bulk_create(
            [GateCriterion(definition=definition, **_criterion_fields(c)) for c in gate.criteria])


def _edit_gates_in_place(plan: GatePlan, gates: Sequence[GateDraft]) -> None:
    definitions = {d.pk: d for d in plan.definitions.prefetch_related("criteria")}
    unknown = [g.definition_id for g in gates if g.definition_id is not None and g.definition_id not in definitions]
    if unknown:
        raise ValidationFailed(_("Gates %(ids)s are not part of the plan '%(plan)s'.")
                               % {"ids": unknown, "plan": plan.name})
    GateDefinition.objects.filter(plan=plan).exclude(
        pk__in=[g.definition_id for g in gates if g.definition_id is not None]).delete()
    for gate in gates:
        if gate.definition_id is None:
            _create_gates(plan, [gate])
            continue
        definition = definitions[gate.definition_id]
        for field, value in _definition_fields(gate).items():
            setattr(definition, field, value)
        definition.save()
        criteria = {c.pk: c for c in definition.criteria.all()}
        kept = [c.criterion_id for c in gate.criteria if c.criterion_id is not None]
        if set(kept) - set(criteria):
            raise ValidationFailed(_("Criteria %(ids)s are not criteria of the gate '%(gate)s'.")
                                   % {"ids": sorted(set(kept) - set(criteria)), "gate": definition.display_name})
        definition.criteria.exclude(pk__in=kept).delete()
        for draft in gate.criteria:
            if draft.criterion_id is None:
                GateCriterion.objects.create(definition=definition, **_criterion_fields(draft))
                continue
            criterion = criteria[draft.criterion_id]
            for field, value in _criterion_fields(draft).items():
                setattr(criterion, field, value)
            criterion.save()


def gate_plan_create(*, user, category: PromiseCategory, name: str, change_note: str,
                     gates: Sequence[GateDraft], now: dt.datetime | None = None) -> GatePlan:
    """A new plan for the category; it becomes the category's current version."""
    _require_manager(user)
    _check_criteria(gates)
    try:
        with transaction.atomic():
            latest = (GatePlan.objects.filter(category=category).order_by("-version")
                      .values_list("version", flat=True).first())
            plan = GatePlan.objects.create(category=category, version=(latest or 0) + 1, name=name,
                                           change_note=change_note, created_at=now or timezone.now())
            _create_gates(plan, gates)
    except IntegrityError as exc:
        raise Conflict(_("Another plan of this category was saved at the same moment; reload and try again.")
                       ) from exc
    return plan


def gate_plan_edit(*, user, plan_id: int, name: str, change_note: str, gates: Sequence[GateDraft],
                   now: dt.datetime | None = None) -> GatePlan:
    """The plan as edited: the same plan while unused, else its next version. Returns the plan saved."""
    _require_manager(user)
    _check_criteria(gates)
    try:
        with transaction.atomic():
            plan = GatePlan.objects.select_for_update().filter(pk=plan_id).first()
            if plan is None:
                raise NotFound(_("Gate plan %(id)s does not exist.") % {"id": plan_id})
            latest = (GatePlan.objects.filter(category_id=plan.category_id).order_by("-version")
                      .values_list("version", flat=True).first())
            if latest != plan.version:
                raise Conflict(_("Plan '%(plan)s' v%(version)s is not the current version (v%(latest)s); "
                                 "changes apply to the current version.")
                               % {"plan": plan.name, "version": plan.version, "latest": latest})
            if plan.promises.exists():
                new_plan = GatePlan.objects.create(category_id=plan.category_id, version=plan.version + 1,
                                                   name=name, change_note=change_note,
                                                   created_at=now or timezone.now())
                _create_gates(new_plan, gates)
                return new_plan
            plan.name, plan.change_note = name, change_note
            plan.save(update_fields=["name", "change_note"])
            _edit_gates_in_place(plan, gates)
    except IntegrityError as exc:
        # Two edits of the same plan in use at once: the (category, version) key lets one win.
        raise Conflict(_("The plan was changed at the same moment; reload and try again.")) from exc
    return plan
