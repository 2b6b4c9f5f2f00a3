"""The criteria checks of a decision: which results a gate may be decided with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from core.errors import ValidationFailed

from .error_codes import GateErrorCode
from .models import CheckResult, Decision, GateCheck, GateReview, Requirement


@dataclass(frozen=True)
class CheckInput:
    """One criterion's result as the decider gives it (parsed by the API's or the admin's form)."""

    check_id: int
    result: CheckResult
    note: str = ""


def checks_apply(review: GateReview, checks: Sequence[CheckInput], *, decision: Decision) -> list[GateCheck]:
    """Set the results on the review's checks (unsaved) and return the ones touched; all of them, in
    their order, stay on the review (`review.decision_checks`) for the answer to the decision.

    A check belongs to this gate and is given once; not applicable needs a note saying why; a result
    against the pre-filled evidence needs a note giving the reason (the override); a go needs every
    criterion checked and every must-meet criterion met."""
    # Hand-written: every decision reads them, and the ORM spent longer composing this than the
    # database answering it (bench/decisions.py); the model's default order would also join the review.
    existing = {c.pk: c for c in GateCheck.objects.raw(
        f'SELECT * FROM {GateCheck._meta.db_table} WHERE review_id = %s ORDER BY "order", id',  # noqa: S608
        [review.pk])}
    errors: dict[str, str] = {}
    seen: set[int] = set()
    override_without_reason = False
    for i, item in enumerate(checks):
        if item.check_id not in existing:
            errors[f"checks[{i}]"] = _("Check %(id)s is not a criterion of this gate.") % {"id": item.check_id}
        elif item.check_id in seen:
            errors[f"checks[{i}]"] = _("Check %(id)s is given twice.") % {"id": item.check_id}
        elif item.result == CheckResult.UNCHECKED:
            errors[f"checks[{i}]"] = _("A check's result is met, not_met or na.")
        elif item.result == CheckResult.NOT_APPLICABLE and not item.note.strip():
            errors[f"checks[{i}]"] = _("A criterion marked not applicable needs a note saying why.")
        elif (existing[item.check_id].prefilled_result and item.result != existing[item.check_id].prefilled_result
              and not item.note.strip()):
            errors[f"checks[{i}]"] = _("Deciding an evidence criterion against the evidence is an override: "
                                       "give the reason in the note.")
            override_without_reason = True
        else:
            seen.add(item.check_id)
            check = existing[item.check_id]
            # An evidence check confirmed without a note keeps the figures it was pre-filled with.
            keep_figures = check.prefilled_result == item.result and not item.note.strip()
            check.result, check.note = item.result, check.note if keep_figures else item.note.strip()
    if errors:
        raise ValidationFailed(_("Some criteria checks are invalid."), fields=errors,
                               code=GateErrorCode.OVERRIDE_NEEDS_REASON if override_without_reason
                               else GateErrorCode.INVALID_CHECKS)
    if decision == Decision.GO:
        # An evidence check pre-filled from the figures counts as checked unless the gatekeeper changes it.
        missing = [c.text for c in existing.values() if c.pk not in seen and not c.prefilled_result]
        if missing:
            raise ValidationFailed(
                _("A go needs a check for every criterion; missing: %(missing)s") % {"missing": "; ".join(missing)},
                code=GateErrorCode.CHECKS_MISSING,
            )
        unmet = [c.text for c in existing.values() if c.requirement == Requirement.MUST and c.result != CheckResult.MET]
        if unmet:
            raise ValidationFailed(
                _("Go needs every must-meet criterion met; not met: %(unmet)s") % {"unmet": "; ".join(unmet)},
                code=GateErrorCode.MUST_CRITERIA_UNMET,
            )
    review.decision_checks = list(existing.values())
    return [existing[pk] for pk in seen]


def checks_save(checks: Sequence[GateCheck]) -> None:
    """Save the results and notes of a decision's checks in one UPDATE ... FROM (VALUES ...): the
    same single statement bulk_update sends, without building a CASE expression per row and field."""
    if not checks:
        return
    if connection.vendor != "postgresql":  # the embedded default (SQLite) knows no column list on VALUES
        GateCheck.objects.bulk_update(checks, ["result", "note"])
        return
    rows = ", ".join(["(%s, %s, %s)"] * len(checks))
    params = [value for check in checks for value in (check.pk, check.result, check.note)]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {GateCheck._meta.db_table} AS c SET result = v.result, note = v.note '  # noqa: S608 - names only
            f'FROM (VALUES {rows}) AS v(id, result, note) WHERE c.id = v.id::bigint', params)
