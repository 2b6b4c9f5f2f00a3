"""Gate plan versions: a change to a plan's criteria becomes a new version of the plan.

Promises submitted afterwards use the new version (gate_plan_current picks the highest);
running promises keep their GateReview/GateCheck snapshot. Kept apart from services.py so the
KVP loop's one write on plans stays small and separate from the gate engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed
from core.ids import as_id

from .error_codes import GateErrorCode
from .models import GateCriterion, GateDefinition, GatePlan, Requirement


def _clean_changes(changes: Iterable[dict[str, Any]], plan: GatePlan) -> list[dict[str, Any]]:
    definitions = {d.pk: d for d in plan.definitions.all()}
    criteria = {c.pk: c for d in definitions.values() for c in d.criteria.all()}
    cleaned, errors = [], {}
    for i, change in enumerate(changes):
        definition_id = as_id(change.get("definition_id"))
        replaces = change.get("replaces_criterion_id")
        if replaces is not None:
            replaces = as_id(replaces) or -1
        text = (change.get("text") or "").strip()
        requirement = change.get("requirement") or Requirement.MUST
        try:
            weight = int(change.get("weight") or 1)
        except (TypeError, ValueError):
            weight = 0
        if definition_id not in definitions:
            errors[f"criteria[{i}]"] = (_("Gate definition %(id)s is not part of the current version (v%(version)s) "
                                          "of the plan '%(plan)s'.")
                                        % {"id": definition_id, "version": plan.version, "plan": plan.name})
        elif replaces is not None and (replaces not in criteria or criteria[replaces].definition_id != definition_id):
            errors[f"criteria[{i}]"] = (_("Criterion %(criterion)s is not a criterion of gate %(gate)s.")
                                        % {"criterion": replaces, "gate": definition_id})
        elif not text or len(text) > 300:
            errors[f"criteria[{i}]"] = _("A criterion needs a text of 1 to 300 characters.")
        elif requirement not in Requirement.values:
            errors[f"criteria[{i}]"] = _("A criterion is must-meet ('must') or should-meet ('should').")
        elif not 1 <= weight <= 100:
            errors[f"criteria[{i}]"] = _("A criterion's weight is a whole number from 1 to 100.")
        else:
            cleaned.append({"definition_id": definition_id, "replaces": replaces, "text": text,
                            "requirement": requirement, "weight": weight})
    if errors:
        raise ValidationFailed(_("Some criterion changes are invalid."), code=GateErrorCode.INVALID_CRITERION_CHANGE,
                               fields=errors)
    return cleaned


def gate_plan_revise(*, plan_id: int, change_note: str, criteria_changes: Iterable[dict[str, Any]],
                     now: dt.datetime | None = None) -> GatePlan:
    """Copy the plan (definitions and criteria) into version + 1 with the criterion changes applied.

    Each change names a definition of this plan and either adds a criterion or replaces one
    (`replaces_criterion_id`). Only the current version of a category's plan can be revised.
    Runs inside the caller's transaction when there is one.
    """
    changes = list(criteria_changes)
    if not changes:
        raise ValidationFailed(_("A new plan version needs at least one criterion change."),
                               code=GateErrorCode.NO_CHANGE)
    try:
        with transaction.atomic():
            plan = GatePlan.objects.select_for_update().filter(pk=as_id(plan_id)).first()
            if plan is None:
                raise NotFound(_("Gate plan %(id)s does not exist.") % {"id": plan_id})
            latest = (GatePlan.objects.filter(category_id=plan.category_id).order_by("-version")
                      .values_list("version", flat=True).first())
            if latest != plan.version:
                raise Conflict(_("Plan '%(plan)s' v%(version)s is not the current version (v%(latest)s); changes "
                                 "apply to the current version.")
                               % {"plan": plan.name, "version": plan.version, "latest": latest},
                               code=GateErrorCode.STALE_PLAN_VERSION)
            plan = GatePlan.objects.prefetch_related("definitions__criteria").get(pk=plan.pk)
            cleaned = _clean_changes(changes, plan)
            new_plan = GatePlan.objects.create(category_id=plan.category_id, version=plan.version + 1,
                                               name=plan.name, change_note=change_note,
                                               created_at=now or timezone.now())
            new_definitions: dict[int, GateDefinition] = {}
            for d in plan.definitions.all():
                new_definitions[d.pk] = GateDefinition.objects.create(
                    plan=new_plan, order=d.order, name=d.name, name_de=d.name_de, step=d.step,
                    owning_team_id=d.owning_team_id,
                    decision_hours=d.decision_hours, description=d.description)
            replaced = {c["replaces"]: c for c in cleaned if c["replaces"] is not None}
            copies = []
            for d in plan.definitions.all():
                for c in d.criteria.all():
                    change = replaced.get(c.pk)
                    copies.append(GateCriterion(
                        definition=new_definitions[d.pk], order=c.order,
                        text=change["text"] if change else c.text,
                        # A changed criterion is worded anew; its German copy goes with the old wording.
                        text_de="" if change else c.text_de,
                        requirement=change["requirement"] if change else c.requirement,
                        weight=change["weight"] if change else c.weight,
                        kind=c.kind, evidence_min_share=c.evidence_min_share))
            for c in cleaned:
                if c["replaces"] is None:
                    siblings = [x for x in copies if x.definition is new_definitions[c["definition_id"]]]
                    copies.append(GateCriterion(
                        definition=new_definitions[c["definition_id"]],
                        order=max((x.order for x in siblings), default=0) + 1,
                        text=c["text"], requirement=c["requirement"], weight=c["weight"]))
            GateCriterion.objects.bulk_create(copies)
    except IntegrityError as exc:
        # Two revisions of the same plan at once: the (category, version) key lets one win.
        raise Conflict(_("The plan was revised at the same moment; reload and try again."),
                       code=GateErrorCode.CONCURRENT_PLAN_REVISION) from exc
    return new_plan
