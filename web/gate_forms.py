"""The decision page's form: a gate's checklist, the decision and the conditions of a conditional
go, parsed once into the typed values `qualitygates.services.gate_decide` takes (the rules of
`qualitygates.serializers.DecideSerializer`), and the engine's refusals put next to the fields
they concern."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from qualitygates.checks import CheckInput
from qualitygates.conditions import ConditionInput
from qualitygates.error_codes import GateErrorCode
from qualitygates.models import CheckResult, Decision, GateCheck, GateReview, Requirement
from qualitygates.working_time import Calendar

MAX_CONDITIONS = 10
CONDITION_ROWS = 2
RESULT_CHOICES = [(CheckResult.MET.value, _("Met")), (CheckResult.NOT_MET.value, _("Not met")),
                  (CheckResult.NOT_APPLICABLE.value, _("Not applicable"))]
_INDEXED = re.compile(r"^(checks|conditions)\[(\d+)\]$")


class DecideForm(forms.Form):
    """One radio group and one note per criterion (`check_<id>`, `note_<id>`), the decision and
    its comment. A submit named `all_met` is the no-script "all met" shortcut: every criterion met
    and the decision a go."""

    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect,
                                 required=False)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Required for kill, hold and recycle: the reasons the owner reads."))

    def __init__(self, *args, review: GateReview, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        self.checks: list[GateCheck] = list(review.checks.all())
        self.all_met = bool(self.data.get("all_met")) if self.is_bound else False
        for check in self.checks:
            self.fields[self.result_name(check)] = forms.ChoiceField(
                label=check.display_text, choices=RESULT_CHOICES, required=False, widget=forms.RadioSelect,
                initial=check.prefilled_result or None)
            self.fields[self.note_name(check)] = forms.CharField(
                label=_("Reason for deciding against the evidence") if check.prefilled_result else _("Note"),
                required=False, max_length=2000)
        self._sent: list[CheckInput] = []

    @staticmethod
    def result_name(check: GateCheck) -> str:
        return f"check_{check.pk}"

    @staticmethod
    def note_name(check: GateCheck) -> str:
        return f"note_{check.pk}"

    def rows(self):
        """(check, its result field, its note field) in the gate's order, for the template."""
        return [(check, self[self.result_name(check)], self[self.note_name(check)]) for check in self.checks]

    def clean(self):
        data = super().clean()
        if self.all_met:
            data["decision"] = Decision.GO.value
        elif not data.get("decision"):
            self.add_error("decision", _("Choose go, kill, hold or recycle."))
        return data

    # --- the typed values the engine takes ----------------------------------------------------
    def decision_value(self) -> Decision:
        return Decision(self.cleaned_data["decision"])

    def check_inputs(self) -> list[CheckInput]:
        """A criterion left blank is not sent: an evidence criterion then keeps its pre-filled result,
        and a go names the others as missing."""
        sent = []
        for check in self.checks:
            result = CheckResult.MET.value if self.all_met else self.cleaned_data.get(self.result_name(check))
            if result:
                sent.append(CheckInput(check_id=check.pk, result=CheckResult(result),
                                       note=self.cleaned_data.get(self.note_name(check), "")))
        self._sent = sent
        return sent

    # --- the engine's refusals next to their fields -------------------------------------------
    def add_decide_error(self, error: DomainError, conditions: ConditionFormSet | None = None) -> None:
        """The engine names a check or a condition by its position in what was sent (`checks[2]`);
        the must-meet and missing-check rules name none, so they go next to each criterion they
        concern. Everything else stands on top of the form."""
        # On top as well: the summary a reader sees first, whatever is further down the page.
        self.add_error(None, str(error.message))
        for key, message in (error.fields or {}).items():
            match = _INDEXED.match(key)
            if match and match[1] == "checks" and int(match[2]) < len(self._sent):
                check = next(c for c in self.checks if c.pk == self._sent[int(match[2])].check_id)
                self.add_error(self.result_name(check), str(message))
            elif match and match[1] == "conditions" and conditions is not None:
                conditions.add_row_error(int(match[2]), str(message))
            elif key in self.fields:
                self.add_error(key, str(error.message))
        for check in self._concerned_checks(error):
            self.add_error(self.result_name(check), str(error.message))

    def _concerned_checks(self, error: DomainError) -> list[GateCheck]:
        given = {item.check_id: item.result for item in self._sent}
        if error.code == GateErrorCode.MUST_CRITERIA_UNMET:
            return [c for c in self.checks if c.requirement == Requirement.MUST
                    and given.get(c.pk, c.prefilled_result) != CheckResult.MET]
        if error.code == GateErrorCode.CHECKS_MISSING:
            return [c for c in self.checks if c.pk not in given and not c.prefilled_result]
        return []


class ConditionForm(forms.Form):
    description = forms.CharField(label=_("Condition"), max_length=300, required=False)
    owner = forms.TypedChoiceField(label=_("Who sees to it"), coerce=int, required=False)
    due = forms.DateField(label=_("Due by"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          help_text=_("By the end of the team's working day."))

    def __init__(self, *args, owners, calendar: Calendar, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = {user.pk: user for user in owners}
        self.calendar = calendar
        self.fields["owner"].choices = [("", "—"), *((u.pk, u.get_full_name() or u.get_username()) for u in owners)]

    def clean(self):
        data = super().clean()
        filled = [name for name in ("description", "owner", "due") if data.get(name)]
        if filled and len(filled) < 3:
            for name in {"description", "owner", "due"} - set(filled):
                if name not in self.errors:
                    self.add_error(name, _("A condition needs a description, an owner and a due date."))
        return data

    def condition_input(self) -> ConditionInput | None:
        data = self.cleaned_data
        if not (data.get("description") and data.get("owner") and data.get("due")):
            return None
        due_at = dt.datetime.combine(data["due"], self.calendar.day_ends, tzinfo=self.calendar.tz)
        return ConditionInput(description=data["description"], owner=self.owners[data["owner"]], due_at=due_at)


class BaseConditionFormSet(forms.BaseFormSet):
    def condition_inputs(self) -> list[ConditionInput]:
        if not self.is_bound:
            return []
        self._sent_forms = [form for form in self.forms if form.condition_input() is not None]
        return [form.condition_input() for form in self._sent_forms]

    def add_row_error(self, index: int, message: str) -> None:
        sent = getattr(self, "_sent_forms", [])
        if index < len(sent):
            sent[index].add_error(None, message)


ConditionFormSet = forms.formset_factory(ConditionForm, formset=BaseConditionFormSet, extra=CONDITION_ROWS,
                                         max_num=MAX_CONDITIONS, validate_max=True)
