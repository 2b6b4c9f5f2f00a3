"""Admin of the KVP loop: feedback (record one, import a CSV), improvement items with their PDCA
transitions as buttons, guidance, and the managers' KVP dashboard.

Every write goes through feedback.services; a domain error becomes a form or admin error message.
The forms parse the input into typed values (instances, enums, decimals, dates) for the services.
What no service writes is read-only here: feedback and guidance are never edited or deleted, an
improvement item moves only through its transition buttons.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import admin_change_link, bulk_service_action
from core.errors import DomainError
from core.roles import is_manager
from promises.models import Customer, Metric, PromiseCategory, ServicePromise
from qualitygates.models import GateCriterion, GateDefinition, Requirement

from . import guidance_admin  # noqa: F401 - registers the guidance admin
from .admin_forms import form_errors, render_form
from .models import (
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    ImprovementItem,
    ImprovementState,
    ImprovementTarget,
    ImprovementTransition,
    Severity,
    TargetMeasure,
)
from .selectors.dashboard import kvp_dashboard
from .selectors.improvements import improvement_visible_q
from .selectors.intake import feedback_visible_q
from .services import improvements
from .services.importing import feedback_import_csv
from .services.intake import feedback_record
from .services.targets import TargetInput

I = ImprovementState  # noqa: E741


# --- feedback ------------------------------------------------------------------------------------

def _enum_field(enum, label, **kwargs) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=enum.choices, coerce=enum, **kwargs)


class FeedbackForm(forms.Form):
    kind = _enum_field(FeedbackKind, _("kind"))
    channel = _enum_field(FeedbackChannel, _("channel"))
    severity = _enum_field(Severity, _("severity"), initial=Severity.MEDIUM)
    promise = forms.ModelChoiceField(
        label=_("promise id"), required=False, widget=forms.NumberInput,
        queryset=ServicePromise.objects.select_related("category", "customer"),
        help_text=_("Where the feedback is about a known promise."))
    category = forms.ModelChoiceField(label=_("category"), queryset=PromiseCategory.objects.all(), required=False,
                                      help_text=_("Where no promise is known."))
    customer = forms.ModelChoiceField(label=_("customer id"), required=False, widget=forms.NumberInput,
                                      queryset=Customer.objects.all())
    csat_score = forms.IntegerField(label=_("CSAT (1–5)"), required=False, min_value=1, max_value=5)
    nps_score = forms.IntegerField(label=_("NPS (0–10)"), required=False, min_value=0, max_value=10)
    text = forms.CharField(label=_("text"), widget=forms.Textarea(attrs={"rows": 4}), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "UTF-8. Columns: kind, channel, text, and promise or category; optional customer, severity, csat, nps, "
        "received_at, external_reference. Any bad row: nothing is imported."))
    dry_run = forms.BooleanField(label=_("only check the file"), required=False)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "severity", "channel", "category", "promise_link", "csat_score",
                    "nps_score", "source", "short_text")
    list_filter = ("kind", "severity", "channel", "source", "category")
    search_fields = ("text", "reason", "external_reference")
    date_hierarchy = "received_at"
    list_select_related = ("category", "promise")
    readonly_fields = [f.name for f in Feedback._meta.fields]
    change_list_template = "admin/feedback/feedback/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(feedback_visible_q(request.user))

    def has_change_permission(self, request, obj=None):
        return False  # feedback is a record of what a customer said; it is not edited afterwards

    def has_delete_permission(self, request, obj=None):
        return False  # nor removed: improvements and the figures rest on it

    @admin.display(description=_("promise"))
    def promise_link(self, obj):
        return admin_change_link(obj.promise) if obj.promise_id else "—"

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:80]

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="feedback_feedback_import"),
                *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FeedbackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                item = feedback_record(user=request.user, **form.cleaned_data)
            except DomainError as exc:
                form_errors(form, exc)
            else:
                self.message_user(request, gettext("Feedback recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:feedback_feedback_change", args=[item.pk]))
        return render_form(self, request, "admin/feedback/form.html", gettext("Record feedback"), form=form,
                       action_label=gettext("Record feedback"))

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        row_errors = []
        if request.method == "POST" and form.is_valid():
            try:
                result = feedback_import_csv(user=request.user, content=form.cleaned_data["file"].read(),
                                             dry_run=form.cleaned_data["dry_run"])
            except DomainError as exc:
                form.add_error(None, exc.message)
                row_errors = list(exc.fields.items())
            else:
                text = (gettext("The file is valid: %(n)d rows would be imported.") if form.cleaned_data["dry_run"]
                        else gettext("Imported %(n)d feedback rows.")) % {"n": result.imported}
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:feedback_feedback_changelist"))
        return render_form(self, request, "admin/feedback/form.html", gettext("Import feedback from CSV"), form=form,
                       action_label=gettext("Import"), row_errors=row_errors, multipart=True)


# --- guidance ------------------------------------------------------------------------------------

# --- improvement items ---------------------------------------------------------------------------

class ProposeForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    categories = forms.ModelMultipleChoiceField(label=_("affected categories"), required=False,
                                                queryset=PromiseCategory.objects.all())
    gate_definitions = forms.ModelMultipleChoiceField(
        label=_("affected gates"), required=False,
        queryset=GateDefinition.objects.select_related("plan").order_by("plan__category__name", "-plan__version",
                                                                         "order"))
    feedback = forms.CharField(label=_("motivating feedback ids"), required=False,
                               help_text=_("Comma separated, e.g. 12, 15"))

    def clean_feedback(self):
        raw = [p.strip() for p in self.cleaned_data["feedback"].split(",") if p.strip()]
        if not all(p.isdigit() for p in raw):
            raise forms.ValidationError(_("Feedback ids are whole numbers, comma separated."))
        return [int(p) for p in raw]


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlanForm(CommentForm):
    owner = forms.ModelChoiceField(label=_("owner"), queryset=None)
    priority = _enum_field(Severity, _("priority"))
    start_date = forms.DateField(label=_("start"))
    due_date = forms.DateField(label=_("due"))
    budget = forms.DecimalField(label=_("budget (EUR)"), max_digits=12, decimal_places=2, min_value=0)
    # One target here; the API plans several.
    metric = forms.ModelChoiceField(label=_("metric"), queryset=Metric.objects.filter(is_active=True))
    measure = _enum_field(TargetMeasure, _("measured as"))
    baseline = forms.DecimalField(label=_("baseline"), max_digits=14, decimal_places=3)
    target_value = forms.DecimalField(label=_("target value"), max_digits=14, decimal_places=3)
    deadline = forms.DateField(label=_("deadline"))
    window_days = forms.IntegerField(label=_("measurement window (days)"), min_value=1, max_value=3660, initial=90)

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class CheckForm(forms.Form):
    measured_value = forms.DecimalField(label=_("measured by hand"), max_digits=14, decimal_places=3, required=False,
                                        help_text=_("For an item with one target; the product measures as well."))
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StandardizeForm(CommentForm):
    guidance_text = forms.CharField(label=_("guidance to presales"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    guidance_categories = forms.ModelMultipleChoiceField(
        label=_("guidance on categories"), queryset=PromiseCategory.objects.all(), required=False,
        help_text=_("Empty: the item's affected categories."))
    definition = forms.ModelChoiceField(
        label=_("gate to change"), required=False,
        queryset=GateDefinition.objects.select_related("plan").order_by("plan__category__name", "-plan__version",
                                                                         "order"),
        help_text=_("A new or changed criterion makes a new version of that gate's plan."))
    replaces_criterion = forms.ModelChoiceField(label=_("criterion to replace"), required=False,
                                                queryset=GateCriterion.objects.select_related("definition"))
    criterion_text = forms.CharField(label=_("criterion text"), required=False, max_length=300)
    requirement = forms.ChoiceField(label=_("requirement"), choices=Requirement.choices, initial=Requirement.MUST)

    def clean(self):
        data = super().clean()
        if data.get("criterion_text") and not data.get("definition"):
            self.add_error("definition", _("Name the gate whose criterion changes."))
        return data


# action -> (service, label, states shown in, form, who: "manager" or "owner")
TRANSITIONS = {
    "accept": (improvements.improvement_accept, _("Accept"), [I.PROPOSED], CommentForm),
    "reject": (improvements.improvement_reject, _("Reject"), [I.PROPOSED, I.ACCEPTED], CommentForm),
    "plan": (improvements.improvement_plan, _("Plan"), [I.ACCEPTED], PlanForm),
    "start": (improvements.improvement_start, _("Start"), [I.PLANNED], CommentForm),
    "check": (improvements.improvement_check, _("Record the check"), [I.IN_PROGRESS], CheckForm),
    "rework": (improvements.improvement_rework, _("Back to in progress"), [I.CHECKING], CommentForm),
    "standardize": (improvements.improvement_standardize, _("Standardize"), [I.CHECKING], StandardizeForm),
    "abandon": (improvements.improvement_abandon, _("Abandon"), [I.ACCEPTED, I.PLANNED, I.IN_PROGRESS, I.CHECKING],
                CommentForm),
}


def _service_kwargs(name: str, data: dict) -> dict:
    if name == "plan":
        target = TargetInput(metric=data["metric"], measure=data["measure"], baseline=data["baseline"],
                             target_value=data["target_value"], deadline=data["deadline"],
                             window_days=data["window_days"])
        return {**{k: data[k] for k in ("owner", "priority", "start_date", "due_date", "budget", "comment")},
                "targets": [target]}
    if name == "check":
        return {"measured_value": data["measured_value"], "note": data["note"]}
    if name == "standardize":
        changes = []
        if data["definition"]:
            changes.append({"definition_id": data["definition"].pk,
                            "replaces_criterion_id": data["replaces_criterion"].pk if data["replaces_criterion"]
                            else None, "text": data["criterion_text"], "requirement": data["requirement"]})
        categories = data["guidance_categories"]
        return {"guidance_text": data["guidance_text"], "criteria_changes": changes, "comment": data["comment"],
                "guidance_category_ids": [c.pk for c in categories] if categories else None}
    return {"comment": data["comment"]}


class ImprovementTargetInline(admin.TabularInline):
    model = ImprovementTarget
    extra = 0
    can_delete = False
    fields = readonly_fields = ("metric", "measure", "baseline", "target_value", "deadline", "window_days",
                                "product_value", "product_counts", "manual_value", "measured_at", "reached")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("metric")


class ImprovementTrailInline(admin.TabularInline):
    model = ImprovementTransition
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "action", "from_state", "to_state", "actor", "comment")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(ImprovementItem)
class ImprovementItemAdmin(admin.ModelAdmin):
    list_display = ("title", "state", "origin", "priority", "owner", "due_date", "targets_text", "target_met")
    list_filter = ("state", "origin", "priority", "categories")
    search_fields = ("title", "description")
    list_select_related = ("owner",)
    readonly_fields = ("title", "description", "state", "origin", "origin_category", "origin_definition",
                       "proposed_by", "categories", "gate_definitions", "feedback", "owner", "priority",
                       "start_date", "due_date", "budget", "measured_at", "check_note", "standardized_at")
    inlines = [ImprovementTargetInline, ImprovementTrailInline]
    change_form_template = "admin/feedback/improvementitem/change_form.html"
    change_list_template = "admin/feedback/improvementitem/change_list.html"
    actions = ["accept_selected"]

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(improvement_visible_q(request.user))
                .prefetch_related("targets__metric"))

    def has_change_permission(self, request, obj=None):
        # The change page is read-only; state moves through the transition buttons only.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("targets"))
    def targets_text(self, obj):
        return "; ".join(str(t) for t in obj.targets.all())

    @admin.display(description=_("reached"), boolean=True)
    def target_met(self, obj):
        return obj.target_met

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="feedback_dashboard"),
            path("<int:object_id>/transition/<str:name>/", view(self.transition_view),
                 name="feedback_improvementitem_transition"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if item is not None:
            extra_context["item_transitions"] = [
                {"label": label, "url": reverse("admin:feedback_improvementitem_transition", args=[item.pk, name])}
                for name, (_s, label, states, _f) in TRANSITIONS.items() if item.state in states]
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProposeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                item = improvements.improvement_propose(
                    user=request.user, title=data["title"], description=data["description"],
                    category_ids=[c.pk for c in data["categories"]],
                    gate_definition_ids=[d.pk for d in data["gate_definitions"]], feedback_ids=data["feedback"])
            except DomainError as exc:
                form_errors(form, exc)
            else:
                self.message_user(request, gettext("Improvement proposed."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:feedback_improvementitem_change", args=[item.pk]))
        return render_form(self, request, "admin/feedback/form.html", gettext("Propose an improvement"), form=form,
                       action_label=gettext("Propose"))

    def transition_view(self, request, object_id: int, name: str):
        item = get_object_or_404(ImprovementItem, pk=object_id)
        change_url = reverse("admin:feedback_improvementitem_change", args=[item.pk])
        if name not in TRANSITIONS or not self.has_view_permission(request, item):
            return HttpResponseRedirect(change_url)
        service, label, _states, form_class = TRANSITIONS[name]
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(item_id=item.pk, user=request.user, **_service_kwargs(name, form.cleaned_data))
            except DomainError as exc:
                form_errors(form, exc)
            else:
                item.refresh_from_db()
                self.message_user(request, gettext("%(action)s: the item is now %(state)s.") % {
                    "action": label, "state": item.get_state_display()}, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return render_form(self, request, "admin/feedback/form.html", f"{label}: {item}", form=form, original=item,
                       action_label=label)

    @admin.action(description=_("Accept selected proposals"))
    def accept_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, improvements.improvement_accept, id_kwarg="item_id",
                            done=gettext("Accepted"))

    def dashboard_view(self, request):
        if not is_manager(request.user):
            raise PermissionDenied
        return render_form(self, request, "admin/feedback/dashboard.html", gettext("KVP dashboard"),
                       board=kvp_dashboard(user=request.user))
