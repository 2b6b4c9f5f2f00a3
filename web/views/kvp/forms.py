"""The forms of the KVP board's moves: each parses its input into the typed values the matching
service takes (feedback.services.improvements). The rules themselves stay in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from feedback.models import FeedbackKind, ImprovementItem, Severity, TargetMeasure
from feedback.services.targets import TargetInput
from promises.models import Metric, PromiseCategory
from web.templatetags.web_format import number

TEXT_MAX = 10_000
DATE = {"type": "date"}


def _date(label) -> forms.DateField:
    field = forms.DateField(label=label, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    field.input_formats = ["%Y-%m-%d"]  # a date input sends ISO dates whatever the page's language
    return field


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=TEXT_MAX,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, item: ImprovementItem, comment_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        if comment_required:
            # The service refuses without it too; the browser says so before the round trip.
            self.fields["comment"].label = _("Reasons")
            self.fields["comment"].widget.attrs["required"] = True

    def service_kwargs(self) -> dict:
        return {"comment": self.cleaned_data["comment"]}


class PlanForm(CommentForm):
    """Plan: owner, priority, schedule, budget and one SMART target (more targets: the API)."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    priority = forms.ChoiceField(label=_("Priority"), choices=Severity.choices)
    start_date = _date(_("Start date"))
    due_date = _date(_("Due"))
    budget = forms.DecimalField(label=_("Budget (EUR)"), max_digits=12, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    metric = forms.ModelChoiceField(label=_("Target metric"), queryset=Metric.objects.none())
    measure = forms.ChoiceField(label=_("Measured as"), choices=TargetMeasure.choices, initial=TargetMeasure.KEEP_RATE)
    baseline = forms.DecimalField(label=_("Baseline"), max_digits=14, decimal_places=3,
                                  widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    target_value = forms.DecimalField(label=_("Target value"), max_digits=14, decimal_places=3,
                                      widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    deadline = _date(_("Target deadline"))
    window_days = forms.IntegerField(label=_("Measurement window (days)"), min_value=1, max_value=3660, initial=90)
    feedback_kind = forms.ChoiceField(label=_("Feedback kind counted"), required=False,
                                      choices=[("", "—"), *FeedbackKind.choices])
    gate_definition = forms.ModelChoiceField(label=_("Gate measured"), required=False, queryset=None,
                                             empty_label="—")
    field_order = ["owner", "priority", "start_date", "due_date", "budget", "metric", "measure", "baseline",
                   "target_value", "deadline", "window_days", "feedback_kind", "gate_definition", "comment"]

    def __init__(self, *args, item: ImprovementItem, **kwargs):
        super().__init__(*args, item=item, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["metric"].queryset = Metric.objects.filter(is_active=True).order_by("name", "id")
        self.fields["gate_definition"].queryset = item.gate_definitions.all()
        self.order_fields(self.field_order)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        target = TargetInput(metric=data["metric"], measure=TargetMeasure(data["measure"]), baseline=data["baseline"],
                             target_value=data["target_value"], deadline=data["deadline"],
                             window_days=data["window_days"], feedback_kind=data["feedback_kind"],
                             gate_definition=data["gate_definition"],
                             categories=tuple(self.item.categories.all()))
        return {"owner": data["owner"], "priority": Severity(data["priority"]), "start_date": data["start_date"],
                "due_date": data["due_date"], "budget": data["budget"], "targets": [target],
                "comment": data["comment"]}

    # The plan service names a target's fields "targets[0].<field>": shown next to this form's field.
    service_field_prefix = "targets[0]."


def target_text(target) -> str:
    """A target as web/kvp/_target_text.html writes it, in the reader's language and formats (the
    model's str() is English with an ISO date)."""
    return (f"{target.metric.display_name} {number(target.baseline)} → {number(target.target_value)} "
            f"{target.metric.display_unit}, {date_format(target.deadline, 'SHORT_DATE_FORMAT')}")


class CheckForm(forms.Form):
    """Check: the product measures each target itself; a value typed by hand goes beside it."""

    note = forms.CharField(label=_("What the check found"), required=False, max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, item: ImprovementItem, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        for target in item.targets.all():
            self.fields[f"value_{target.pk}"] = forms.DecimalField(
                label=_("Measured by hand: %(target)s") % {"target": target_text(target)}, required=False, max_digits=14,
                decimal_places=3, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))

    def service_kwargs(self) -> dict:
        values = {int(name.removeprefix("value_")): value for name, value in self.cleaned_data.items()
                  if name.startswith("value_") and value is not None}
        return {"manual_values": values, "note": self.cleaned_data["note"]}


class StandardizeForm(CommentForm):
    """Standardize: publish the lesson as guidance on categories (criterion changes: the API)."""

    guidance_text = forms.CharField(label=_("Guidance for presales"), max_length=TEXT_MAX,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    guidance_categories = forms.ModelMultipleChoiceField(label=_("Publish on the categories"), required=False,
                                                         queryset=PromiseCategory.objects.none(),
                                                         widget=forms.CheckboxSelectMultiple)
    field_order = ["guidance_text", "guidance_categories", "comment"]

    def __init__(self, *args, item: ImprovementItem, **kwargs):
        super().__init__(*args, item=item, **kwargs)
        self.fields["guidance_categories"].queryset = PromiseCategory.objects.order_by("name", "id")
        self.fields["guidance_categories"].initial = [c.pk for c in item.categories.all()]
        self.order_fields(self.field_order)

    def service_kwargs(self) -> dict:
        chosen = self.cleaned_data["guidance_categories"]
        return {"guidance_text": self.cleaned_data["guidance_text"],
                "guidance_category_ids": [c.pk for c in chosen] if chosen else None,
                "comment": self.cleaned_data["comment"]}


class ProposeForm(forms.Form):
    """Anyone in a team proposes an improvement (feedback.services.improvements.improvement_propose)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What should improve, and why"), required=False, max_length=TEXT_MAX,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    categories = forms.ModelMultipleChoiceField(label=_("Affected categories"), required=False,
                                                queryset=PromiseCategory.objects.order_by("name", "id"),
                                                widget=forms.CheckboxSelectMultiple)

    def service_kwargs(self) -> dict:
        return {"title": self.cleaned_data["title"], "description": self.cleaned_data["description"],
                "category_ids": [c.pk for c in self.cleaned_data["categories"]]}
