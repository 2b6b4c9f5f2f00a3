"""Admin for gate plans, edited on one page with their gates and criteria (nested). Saving runs
qualitygates.plan_edits: a plan in use becomes a new version, running promises keep theirs. Gates
and criteria are only looked up on their own pages: edited there, a plan in use would change under
its running promises."""

from __future__ import annotations

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import ReadOnlyAdminMixin, ReadOnlyInline, domain_error_text
from core.errors import DomainError

from . import plan_edits
from .models import CriterionKind, GateCriterion, GateDefinition, GatePlan
from .plan_edits import CriterionDraft, GateDraft


def _is_current_version(plan: GatePlan | None) -> bool:
    """A superseded plan version is history (promises that ran on it are explained by it): the page
    shows it read-only. plan_edits refuses to edit it all the same."""
    if plan is None or plan.pk is None:
        return True
    if not hasattr(plan, "_is_current_version"):
        plan._is_current_version = not GatePlan.objects.filter(
            category_id=plan.category_id, version__gt=plan.version).exists()
    return plan._is_current_version


class PlanPartInline:
    """Gates and criteria are editable on the page of the current plan version only."""

    @staticmethod
    def _plan(obj):
        if isinstance(obj, GateDefinition):
            return obj.plan if obj.plan_id else None  # a gate being added with a new plan
        return obj

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _is_current_version(self._plan(obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_current_version(self._plan(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_current_version(self._plan(obj))


class CriterionForm(forms.ModelForm):
    """A criterion is checked by the gatekeeper unless it is made an evidence criterion."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or CriterionKind.MANUAL


class CriterionInline(PlanPartInline, nested_admin.NestedTabularInline):
    model = GateCriterion
    form = CriterionForm
    extra = 0
    fields = ("order", "text", "text_de", "requirement", "weight", "kind", "evidence_min_share")


class DefinitionInline(PlanPartInline, nested_admin.NestedStackedInline):
    model = GateDefinition
    extra = 0
    fields = (("order", "name", "name_de", "step"), ("owning_team", "decision_hours"), "description")
    autocomplete_fields = ("owning_team",)
    inlines = (CriterionInline,)


def _gate_drafts(formsets) -> list[GateDraft]:
    """The plan's gates as the page submits them; blank extra rows and rows marked for deletion
    left out."""
    # nested_admin lists the nested criterion formsets here too; they are reached through their gate.
    [definition_formset] = [formset for formset in formsets if formset.model is GateDefinition]
    gates = []
    for form in definition_formset.forms:
        gate = form.cleaned_data
        if not gate or gate.get("DELETE"):
            continue
        [criterion_formset] = form.nested_formsets
        criteria = tuple(
            CriterionDraft(order=c["order"], text=c["text"], text_de=c["text_de"], requirement=c["requirement"],
                           weight=c["weight"], kind=c["kind"], evidence_min_share=c["evidence_min_share"],
                           criterion_id=criterion_form.instance.pk)
            for criterion_form in criterion_formset.forms
            if (c := criterion_form.cleaned_data) and not c.get("DELETE"))
        gates.append(GateDraft(order=gate["order"], name=gate["name"], name_de=gate["name_de"], step=gate["step"],
                               owning_team=gate["owning_team"], decision_hours=gate["decision_hours"],
                               description=gate["description"], criteria=criteria,
                               definition_id=form.instance.pk))
    return gates


@admin.register(GatePlan)
class GatePlanAdmin(nested_admin.NestedModelAdmin):
    list_display = ("name", "category", "version", "gate_count", "promise_count", "created_at")
    list_filter = ("category",)
    list_select_related = ("category",)
    search_fields = ("name", "category__name", "change_note")
    autocomplete_fields = ("category",)
    fields = ("category", "name", "version", "change_note", "usage")
    inlines = (DefinitionInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _gates=Count("definitions", distinct=True), _promises=Count("promises", distinct=True))

    def get_readonly_fields(self, request, obj=None):
        # The version is counted by the service; a plan stays with its category.
        return ("version", "usage") if obj is None else ("category", "version", "usage")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_current_version(obj)

    def has_delete_permission(self, request, obj=None):
        # No service deletes plans: an unused plan is edited instead, one in use is kept for its promises.
        return False

    @admin.display(description=_("gates"), ordering="_gates")
    def gate_count(self, obj):
        return obj._gates

    @admin.display(description=_("promises"), ordering="_promises")
    def promise_count(self, obj):
        return obj._promises

    @admin.display(description=_("in use"))
    def usage(self, obj):
        if obj is None or obj.pk is None or not obj._promises:
            return gettext("Not used by any promise yet: changes are saved in place.")
        return gettext("Used by %(count)d promises: saving creates version %(next)d; they keep this one.") % {
            "count": obj._promises, "next": obj.version + 1}

    # --- writes go through qualitygates.plan_edits -----------------------------------------------
    def save_model(self, request, obj, form, change):
        pass  # saved with its gates and criteria in save_related, once the whole page is known

    def save_related(self, request, form, formsets, change):
        if change and not form.has_changed() and not any(formset.has_changed() for formset in formsets):
            return  # saved unchanged: a plan in use gets no new version for it
        data, gates = form.cleaned_data, _gate_drafts(formsets)
        if change:
            saved = plan_edits.gate_plan_edit(user=request.user, plan_id=form.instance.pk, name=data["name"],
                                              change_note=data["change_note"], gates=gates)
        else:
            saved = plan_edits.gate_plan_create(user=request.user, category=data["category"], name=data["name"],
                                                change_note=data["change_note"], gates=gates)
        if change and saved.pk != form.instance.pk:
            self.message_user(request, gettext(
                "The plan is in use, so your changes were saved as version %(version)d; promises already "
                "submitted keep version %(old)d.") % {"version": saved.version, "old": form.instance.version},
                messages.WARNING)
        # The admin's log entry and redirect then name the plan that was saved.
        plan = form.instance
        plan.pk = plan.id = saved.pk
        plan.version, plan.created_at = saved.version, saved.created_at
        plan._state.adding = False

    def construct_change_message(self, request, form, formsets, add=False):
        # The formsets were not saved by Django (the service wrote the rows), so they have no changes to list.
        return super().construct_change_message(request, form, None, add)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The admin's own transaction has been rolled back: nothing of the edit was written.
            self.message_user(request, domain_error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(GateDefinition)
class GateDefinitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "plan", "order", "step", "owning_team", "decision_hours", "criterion_count")
    list_filter = ("step", "owning_team", "plan__category")
    list_select_related = ("plan", "owning_team")
    search_fields = ("name", "plan__name", "description")
    inlines = (type("DefinitionCriterionInline", (ReadOnlyInline,),
                    {"model": GateCriterion, "fields": ("order", "text", "requirement", "weight"),
                     "readonly_fields": ("order", "text", "requirement", "weight")}),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_criteria=Count("criteria"))

    @admin.display(description=_("criteria"), ordering="_criteria")
    def criterion_count(self, obj):
        return obj._criteria


@admin.register(GateCriterion)
class GateCriterionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("text", "requirement", "weight", "definition", "plan")
    list_filter = ("requirement", "definition__step", "definition__plan__category")
    list_select_related = ("definition__plan",)
    search_fields = ("text", "definition__name")

    @admin.display(description=_("gate plan"), ordering="definition__plan__name")
    def plan(self, obj):
        return obj.definition.plan

