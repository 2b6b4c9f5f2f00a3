"""The promise pages' forms: they parse the request into typed values once; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import roles
from promises.models import Comparison, Department, Metric, PromiseChannel, PromiseState
from promises.selectors import SEARCH_MAX, category_list, customer_list

TEXT_MAX = 5000
GUIDANCE_MAX = 200


class FiniteDecimalField(forms.DecimalField):
    """A decimal typed as text in the reader's convention (German "3,5"; "3.5" in either language),
    whose absurd spellings (1e400, NaN, Infinity) are form errors, not crashes. Not a number input:
    a browser whose own language differs from the page's drops the comma there, so "3,5" arrived
    as 35."""

    default_error_messages = {"invalid": _("Enter a number.")}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("localize", True)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        if isinstance(value, str) and len(value) > 40:
            raise ValidationError(_("Enter a number."))
        return super().to_python(value)

    def prepare_value(self, value):
        # A stored Decimal("4.000") would fill the box with "4.000", which a German reader takes for
        # four thousand: show the plain number ("4", "12500", "0.5"), as the number input expects.
        if isinstance(value, Decimal) and value.is_finite():
            return format(value.normalize(), "f")
        return value


class IdListField(forms.Field):
    """Ids of a multi-valued checkbox group: at most GUIDANCE_MAX whole numbers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value or []
        if len(values) > GUIDANCE_MAX:
            raise ValidationError(_("Too many items."))
        try:
            return sorted({int(v) for v in values if 0 < int(v) < 2**63})
        except (TypeError, ValueError):
            raise ValidationError(_("Not a valid choice.")) from None


class LabelledForm(forms.Form):
    """Labels stand above their inputs: no colon after them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PromiseForm(LabelledForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=TEXT_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, empty_label=_("Choose a category"))
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False,
                                      empty_label=_("No single customer (a segment)"))
    customer_segment = forms.CharField(label=_("Customer segment"), max_length=100, required=False,
                                       help_text=_("For a marketing promise made to a segment."))
    origin_department = forms.ChoiceField(label=_("Department"), choices=Department.choices)
    channel = forms.ChoiceField(label=_("Made on"), choices=PromiseChannel.choices)
    metric = forms.ModelChoiceField(label=_("Metric"), queryset=Metric.objects.filter(is_active=True),
                                    empty_label=_("Choose a metric"))
    comparison = forms.ChoiceField(label=_("Comparison"), initial=Comparison.AT_MOST, choices=[
        (Comparison.AT_MOST, _("≤ at most")), (Comparison.AT_LEAST, _("≥ at least")), (Comparison.EXACTLY, _("= exactly"))])
    target_value = FiniteDecimalField(label=_("Target value"), max_digits=14, decimal_places=3)
    # A date input takes only ISO dates: a German "31.03.2027" would leave the box empty.
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    crm_reference = forms.CharField(label=_("CRM reference"), max_length=100, required=False)
    deal_value = FiniteDecimalField(label=_("Deal value (EUR)"), max_digits=14, decimal_places=2, min_value=0,
                                    required=False)
    acknowledged_guidance_ids = IdListField(label=_("Guidance acknowledged"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = category_list()
        self.fields["customer"].queryset = customer_list(user=user)
        departments = roles.maker_departments(user)
        if departments and not roles.is_manager(user):
            self.fields["origin_department"].choices = [c for c in Department.choices if c[0] in departments]

    def service_values(self) -> dict:
        """The create service's keyword arguments."""
        data = dict(self.cleaned_data)
        data.pop("acknowledged_guidance_ids")
        return data


class EvidenceQueryForm(forms.Form):
    """The evidence fragment's query: the category, metric and target typed so far."""

    category = forms.ModelChoiceField(queryset=None)
    metric = forms.ModelChoiceField(queryset=Metric.objects.all())
    target_value = FiniteDecimalField(max_digits=14, decimal_places=3, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = category_list()


SORT_CHOICES = [("created", _("Newest first")), ("due", _("Due date")), ("title", _("Title"))]
DUE_CHOICES = [("", _("Any time")), ("overdue", _("Overdue")), ("week", _("This week")), ("later", _("Later"))]


class PromiseFilterForm(LabelledForm):
    """The list's filters. An invalid value is dropped (the list then shows that filter unset)."""

    MORE = ("scope", "state", "category", "customer", "due")

    q = forms.CharField(label=_("Search"), max_length=SEARCH_MAX, required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Title, customer, CRM reference")}))
    scope = forms.ChoiceField(label=_("Whose"), required=False, choices=[
        ("", _("All I may see")), ("mine", _("Mine")), ("department", _("My department"))])
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any state")), *PromiseState.choices])
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False,
                                      empty_label=_("Any category"))
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False,
                                      empty_label=_("Any customer"))
    due = forms.ChoiceField(label=_("Due"), required=False, choices=DUE_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, data, *, user):
        data = data.copy()
        # mine=1 / department=1 are the short forms the home page links with.
        if data.get("mine") == "1" and not data.get("scope"):
            data["scope"] = "mine"
        elif data.get("department") == "1" and not data.get("scope"):
            data["scope"] = "department"
        super().__init__(data)
        self.fields["category"].queryset = category_list()
        self.fields["customer"].queryset = customer_list(user=user)

    def more_fields(self):
        return [self[name] for name in self.MORE]

    def more_active(self) -> bool:
        return any(self.data.get(name) for name in self.MORE)

    def filters(self) -> dict:
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        return {
            "mine": data.get("scope") == "mine", "department": data.get("scope") == "department",
            "state": data.get("state") or None,
            "category_id": data["category"].pk if data.get("category") else None,
            "customer_id": data["customer"].pk if data.get("customer") else None,
            "due": data.get("due") or None, "search": data.get("q") or "", "sort": data.get("sort") or "created",
        }


class CommentForm(LabelledForm):
    comment = forms.CharField(label=_("Comment"), max_length=TEXT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class SubmitForm(CommentForm):
    acknowledged_guidance_ids = IdListField(label=_("Guidance acknowledged"), required=False)


class VerifyForm(LabelledForm):
    actual_value = FiniteDecimalField(label=_("Delivered value"), max_digits=14, decimal_places=3)
    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required when the target was missed."))


class ConditionMeetForm(LabelledForm):
    condition = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=TEXT_MAX, required=False)
