"""Admin for gate reviews, their checks and conditions: decided, resumed and met only through the
gate engine (qualitygates.services), whose domain errors show as messages. Gate plans and the teams'
working calendars have their own admin modules, registered from here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import (
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_change_link,
    bulk_service_action,
    call_service,
)
from promises.models import TransitionLog
from promises.selectors import gate_review_visible_q

from . import calendar_admin, plan_admin, services  # noqa: F401  (the admin modules register themselves)
from .checks import CheckInput
from .conditions import ConditionInput
from .models import (
    CheckResult,
    ConditionState,
    Decision,
    GateCheck,
    GateCondition,
    GateReview,
    ReviewState,
)
from .selectors import gate_review_detail

User = get_user_model()


# --- gate reviews: decided through the gate engine ---------------------------------------------------

class CheckInline(ReadOnlyInline):
    model = GateCheck
    fields = ("order", "text", "requirement", "weight", "result", "note")
    readonly_fields = fields


class ConditionInline(ReadOnlyInline):
    model = GateCondition
    fields = ("description", "owner", "due_at", "state", "resolved_at", "resolved_by", "note", "meet_link")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "resolved_by")

    @admin.display(description="")
    def meet_link(self, obj):
        if obj.state != ConditionState.OPEN:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:qualitygates_gatecondition_meet", args=[obj.pk]),
                           gettext("Mark met"))


class ReviewTrailInline(ReadOnlyInline):
    model = TransitionLog
    fk_name = "gate_review"
    fields = ("at", "subject", "action", "from_state", "to_state", "actor", "comment")
    readonly_fields = fields
    verbose_name_plural = _("transition trail")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor").order_by("at", "id")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("decision"), choices=Decision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Required for kill, hold and recycle: the reasons."))


class CheckForm(forms.Form):
    check = forms.IntegerField(widget=forms.HiddenInput)
    result = forms.ChoiceField(label=_("result"), required=False,
                               choices=[("", "—"), *[c for c in CheckResult.choices if c[0]]])
    note = forms.CharField(label=_("note"), required=False, widget=forms.TextInput(attrs={"size": 40}))


class ConditionForm(forms.Form):
    description = forms.CharField(label=_("condition"), required=False, max_length=300,
                                  widget=forms.TextInput(attrs={"size": 50}))
    owner = forms.ModelChoiceField(label=_("owner"), required=False,
                                   queryset=User.objects.filter(is_active=True).order_by("username"))
    due_at = forms.DateTimeField(label=_("due"), required=False,
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                            format="%Y-%m-%dT%H:%M"))

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("description") or data.get("owner") or data.get("due_at"))

    def clean(self):
        data = super().clean()
        if not self.is_blank() and not (data.get("owner") and data.get("due_at")):
            raise forms.ValidationError(_("A condition needs an owner and a due date and time."))
        return data


CheckFormSet = forms.formset_factory(CheckForm, extra=0)
ConditionFormSet = forms.formset_factory(ConditionForm, extra=2)


class ResumeForm(forms.Form):
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MeetForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("How the condition was met."))


@admin.register(GateReview)
class GateReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only in the admin's sense: every change is a decision made through the gate engine."""

    list_display = ("name", "promise", "step", "round", "owning_team", "state", "due_at", "overdue", "decision",
                    "decided_by", "next_step")
    list_filter = ("state", "step", "owning_team", "decision", "due_at")
    list_select_related = ("promise", "owning_team", "decided_by")
    search_fields = ("name", "promise__title", "comment")
    date_hierarchy = "opened_at"
    fields = ("promise_link", "name", "step", "round", "order", "owning_team", "decision_hours", "state",
              "opened_at", "due_at", "hold_started_at", "decision", "decided_by", "decided_at", "comment",
              "definition")
    readonly_fields = fields
    inlines = (CheckInline, ConditionInline, ReviewTrailInline)

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(gate_review_visible_q(request.user))
                .select_related("promise", "owning_team", "decided_by", "definition"))

    @admin.display(description=_("promise"))
    def promise_link(self, obj):
        return admin_change_link(obj.promise)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description="")
    def next_step(self, obj):
        if obj.state == ReviewState.OPEN:
            return format_html('<a href="{}">{}</a>', reverse("admin:qualitygates_gatereview_decide", args=[obj.pk]),
                               gettext("Decide"))
        if obj.state == ReviewState.ON_HOLD:
            return format_html('<a href="{}">{}</a>', reverse("admin:qualitygates_gatereview_resume", args=[obj.pk]),
                               gettext("Resume"))
        return ""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = GateReview.objects.filter(pk=object_id).only("state").first() if object_id.isdigit() else None
        tools = []
        if review is not None and review.state == ReviewState.OPEN:
            tools.append({"label": gettext("Decide"),
                          "url": reverse("admin:qualitygates_gatereview_decide", args=[review.pk])})
        if review is not None and review.state == ReviewState.ON_HOLD:
            tools.append({"label": gettext("Resume"),
                          "url": reverse("admin:qualitygates_gatereview_resume", args=[review.pk])})
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "gate_tools": tools})

    def get_urls(self):
        return [
            path("<int:object_id>/decide/", self.admin_site.admin_view(self.decide_view),
                 name="qualitygates_gatereview_decide"),
            path("<int:object_id>/resume/", self.admin_site.admin_view(self.resume_view),
                 name="qualitygates_gatereview_resume"),
            *super().get_urls(),
        ]

    def _context(self, request, review, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "original": review, **extra}

    def decide_view(self, request, object_id: int):
        review = gate_review_detail(user=request.user, review_id=object_id)
        if review is None or not self.has_view_permission(request, review):
            return HttpResponseRedirect(reverse("admin:qualitygates_gatereview_changelist"))
        change_url = reverse("admin:qualitygates_gatereview_change", args=[review.pk])
        checks = list(review.checks.all())
        initial = [{"check": c.pk, "result": c.result, "note": c.note} for c in checks]
        data = request.POST if request.method == "POST" else None
        form = DecisionForm(data)
        check_formset = CheckFormSet(data, initial=initial, prefix="checks")
        condition_formset = ConditionFormSet(data, prefix="conditions")
        if data is not None and form.is_valid() and check_formset.is_valid() and condition_formset.is_valid():
            check_items = [
                CheckInput(check_id=f.cleaned_data["check"], result=CheckResult(f.cleaned_data["result"]),
                           note=f.cleaned_data["note"])
                for f in check_formset if f.cleaned_data.get("result")
            ]
            condition_items = [
                ConditionInput(description=f.cleaned_data["description"], owner=f.cleaned_data["owner"],
                               due_at=f.cleaned_data["due_at"])
                for f in condition_formset if not f.is_blank()
            ]
            ok, _result = call_service(
                request, services.gate_decide, review_id=review.pk, decision=Decision(form.cleaned_data["decision"]),
                comment=form.cleaned_data["comment"], checks=check_items, conditions=condition_items)
            if ok:
                self.message_user(request, gettext("Gate '%(gate)s' decided: %(decision)s.") % {
                    "gate": review.name, "decision": Decision(form.cleaned_data["decision"]).label}, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        check_rows = list(zip(checks, check_formset.forms, strict=True))
        return TemplateResponse(request, "admin/qualitygates/gatereview/decide.html", self._context(
            request, review, title=gettext("Decide gate: %(gate)s") % {"gate": review.name}, form=form,
            check_formset=check_formset, check_rows=check_rows, condition_formset=condition_formset,
            promise=review.promise, change_url=change_url, is_open=review.state == ReviewState.OPEN))

    def resume_view(self, request, object_id: int):
        review = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse("admin:qualitygates_gatereview_change", args=[review.pk])
        form = ResumeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            ok, _result = call_service(request, services.gate_resume, review_id=review.pk,
                                       comment=form.cleaned_data["comment"])
            if ok:
                self.message_user(request, gettext("Gate '%(gate)s' resumed.") % {"gate": review.name},
                                  messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(request, "admin/qualitygates/action_form.html", self._context(
            request, review, title=gettext("Resume gate: %(gate)s") % {"gate": review.name}, form=form,
            action_label=gettext("Resume"), change_url=change_url))


@admin.register(GateCheck)
class GateCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Checks are written by gate decisions; here they are only looked up."""

    list_display = ("text", "review", "requirement", "result", "note")
    list_filter = ("result", "requirement", "review__step")
    list_select_related = ("review",)
    search_fields = ("text", "note", "review__name")
    readonly_fields = ("review", "criterion", "order", "text", "requirement", "weight", "result", "note")


@admin.register(GateCondition)
class GateConditionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("description", "review", "owner", "due_at", "state", "resolved_by")
    list_filter = ("state", "due_at")
    list_select_related = ("review", "owner", "resolved_by")
    search_fields = ("description", "review__name", "review__promise__title", "owner__username")
    readonly_fields = ("review", "description", "owner", "due_at", "state", "resolved_at", "resolved_by", "note")
    actions = ("meet_selected",)

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(gate_review_visible_q(request.user, prefix="review__"))
                .select_related("review", "owner", "resolved_by"))

    @admin.action(description=_("Mark selected conditions met"))
    def meet_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.gate_condition_meet, id_kwarg="condition_id",
                            done=gettext("Marked met"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        condition = GateCondition.objects.filter(pk=object_id).only("state").first() if object_id.isdigit() else None
        tools = []
        if condition is not None and condition.state == ConditionState.OPEN:
            tools.append({"label": gettext("Mark met"),
                          "url": reverse("admin:qualitygates_gatecondition_meet", args=[condition.pk])})
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "gate_tools": tools})

    def get_urls(self):
        return [
            path("<int:object_id>/meet/", self.admin_site.admin_view(self.meet_view),
                 name="qualitygates_gatecondition_meet"),
            *super().get_urls(),
        ]

    def meet_view(self, request, object_id: int):
        condition = get_object_or_404(self.get_queryset(request), pk=object_id)
        review_url = reverse("admin:qualitygates_gatereview_change", args=[condition.review_id])
        form = MeetForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            ok, _result = call_service(request, services.gate_condition_meet, condition_id=condition.pk,
                                       note=form.cleaned_data["note"])
            if ok:
                self.message_user(request, gettext("Condition marked met: %(condition)s") % {
                    "condition": condition.description}, messages.SUCCESS)
                return HttpResponseRedirect(review_url)
        return TemplateResponse(request, "admin/qualitygates/action_form.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": condition,
            "title": gettext("Mark condition met: %(condition)s") % {"condition": condition.description},
            "form": form, "action_label": gettext("Mark met"), "change_url": review_url,
        })
