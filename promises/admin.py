"""Admin for categories, service promises and the transition trail.

Promises are created, edited and moved only through promises.services; the admin offers the
transitions as actions and as buttons on the change page, and shows domain errors as messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import Count, Max
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
    domain_error_text,
)
from core.errors import DomainError
from feedback.selectors.guidance import category_record, guidance_current
from qualitygates.models import GateReview

from . import customer_admin, metric_admin, selectors, services  # noqa: F401  (the admin modules register themselves)
from .models import CustomerNotice, PromiseCategory, PromiseState, ServicePromise, TransitionLog
from .selectors import status_link_visible
from .status_link import status_url

S = PromiseState


@admin.register(PromiseCategory)
class PromiseCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "interim_notice_days", "plan_version", "promise_count")
    search_fields = ("name", "name_de", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _plan_version=Max("gate_plans__version"), _promise_count=Count("promises", distinct=True))

    @admin.display(description=_("current gate plan version"), ordering="_plan_version")
    def plan_version(self, obj):
        return obj._plan_version or "—"

    @admin.display(description=_("promises"), ordering="_promise_count")
    def promise_count(self, obj):
        return obj._promise_count


class GateReviewInline(ReadOnlyInline):
    model = GateReview
    fields = ("gate", "round", "step", "owning_team", "state", "due_at", "decision", "decided_by", "decided_at")
    readonly_fields = fields
    verbose_name_plural = _("gate reviews")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owning_team", "decided_by").order_by(
            "round", "order", "id")

    @admin.display(description=_("gate"))
    def gate(self, obj):
        return admin_change_link(obj, obj.name)


class TrailInline(ReadOnlyInline):
    model = TransitionLog
    fk_name = "promise"
    fields = ("at", "subject", "action", "from_state", "to_state", "actor", "gate_review", "comment")
    readonly_fields = fields
    verbose_name_plural = _("transition trail")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "gate_review").order_by("at", "id")


class VerifyForm(forms.Form):
    actual_value = forms.DecimalField(label=_("actual value"), max_digits=14, decimal_places=3,
                                      help_text=_("What was actually delivered, in the promise's unit."))
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Required when the target was missed."))


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Goes into the transition trail."))


class SubmitForm(CommentForm):
    """Submitting needs the category's current guidance acknowledged (the lessons of earlier promises)."""

    guidance = forms.MultipleChoiceField(
        label=_("I have read this guidance"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Lessons learned from earlier promises of this category; all must be acknowledged."))

    def __init__(self, *args, guidance=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guidance"].choices = [(str(g.pk), g.text) for g in guidance]
        if not guidance:
            del self.fields["guidance"]


# The transitions the admin offers: (service, label, states in which the button is shown).
# The service decides whether the move is really allowed; the states only keep the page tidy.
TRANSITIONS = {
    "submit": (services.promise_submit, _("Submit for review"), [S.DRAFT]),
    "resubmit": (services.promise_resubmit, _("Resubmit"), [S.REWORK]),
    "withdraw": (services.promise_withdraw, _("Withdraw"),
                 [S.DRAFT, S.IN_REVIEW, S.REWORK, S.APPROVED, S.ON_HOLD]),
    "commit": (services.promise_commit, _("Commit to customer"), [S.APPROVED]),
    "handover": (services.promise_handover, _("Hand over to delivery"), [S.COMMITTED]),
    "verify": (services.promise_verify, _("Verify fulfilment"), [S.IN_DELIVERY]),
    "close": (services.promise_close, _("Close"), [S.FULFILLED, S.BROKEN]),
}


class ServicePromiseForm(forms.ModelForm):
    class Meta:
        model = ServicePromise
        # The unit is the metric's: shown (read-only), never typed.
        fields = (*(name for name in services.EDITABLE_FIELDS if name != "unit"), "owner")


@admin.register(ServicePromise)
class ServicePromiseAdmin(admin.ModelAdmin):
    form = ServicePromiseForm
    list_display = ("id", "title", "state", "category", "customer_or_segment", "owner", "commitment_display",
                    "due_date", "rework_rounds", "created_at")
    list_display_links = ("id", "title")
    list_filter = ("state", "category", "origin_department", "channel", "due_date")
    list_select_related = ("category", "customer", "owner", "metric")
    search_fields = ("title", "description", "crm_reference", "customer__name", "customer_segment",
                     "owner__username")
    autocomplete_fields = ("customer", "category", "owner")
    date_hierarchy = "created_at"
    inlines = (GateReviewInline, TrailInline)
    actions = ("submit_selected", "resubmit_selected", "withdraw_selected", "commit_selected",
               "handover_selected", "close_selected", "revoke_status_link_selected",
               "reissue_status_link_selected", "delete_selected")
    fieldsets = (
        (None, {"fields": ("title", "description", "category", "owner")}),
        (_("Customer"), {"fields": ("customer", "customer_segment", "origin_department", "channel",
                                    "crm_reference", "deal_value")}),
        (_("Commitment"), {"fields": ("metric", "comparison", "target_value", "unit", "due_date")}),
        (_("Lifecycle"), {"fields": ("state", "rework_rounds", "gate_plan", "actual_value", "outcome_reason",
                                     "verified_at", "status_link", "customer_visible_at", "created_at",
                                     "updated_at")}),
    )
    LIFECYCLE_FIELDS = ("state", "rework_rounds", "gate_plan", "actual_value", "outcome_reason", "verified_at",
                        "status_link", "customer_visible_at", "created_at", "updated_at")

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(selectors.promise_visible_q(request.user))
                .select_related("category", "customer", "owner", "gate_plan", "metric"))

    def get_fieldsets(self, request, obj=None):
        if obj is not None and status_link_visible(user=request.user, promise=obj):
            return self.fieldsets
        # The customer's link is for those who speak to the customer (promises.selectors).
        return [(name, {**options, "fields": tuple(f for f in options["fields"] if f != "status_link")})
                for name, options in self.fieldsets]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return (*self.LIFECYCLE_FIELDS, "unit")
        if obj.state in services.EDITABLE_STATES:
            # The owner is set once; handing a promise to someone else is not an edit.
            return (*self.LIFECYCLE_FIELDS, "unit", "owner")
        return (*self.LIFECYCLE_FIELDS, *services.EDITABLE_FIELDS, "owner")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        return initial

    def has_delete_permission(self, request, obj=None):
        # Only an untouched draft may go; anything submitted has a trail that must stay. Who may
        # delete which draft is promise_delete's rule (its owner or a manager), applied on deleting.
        return super().has_delete_permission(request, obj) and (obj is None or obj.state == S.DRAFT)

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_or_segment(self, obj):
        return obj.customer.name if obj.customer_id else obj.customer_segment

    @admin.display(description=_("commitment"))
    def commitment_display(self, obj):
        return obj.commitment

    @admin.display(description=_("customer status link"))
    def status_link(self, obj):
        url = status_url(obj) if obj is not None and obj.pk is not None else None
        if url is None:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    # --- writes go through the services ----------------------------------------------------
    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        if not change:
            created = services.promise_create(user=request.user, owner=form.cleaned_data.get("owner"), **data)
            obj.pk = obj.id = created.pk
            obj._state.adding = False
            return
        changed = {name: value for name, value in data.items() if name in form.changed_data}
        if changed:
            services.promise_update(promise_id=obj.pk, user=request.user, changes=services.PromiseChanges(**changed))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The admin's own transaction has been rolled back: nothing of the edit was written.
            self.message_user(request, domain_error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        services.promise_delete(promise_id=obj.pk, user=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            # Raised inside the admin's transaction: the deletion and its log entry were rolled back.
            self.message_user(request, domain_error_text(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:promises_servicepromise_change", args=[object_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        promise = ServicePromise.objects.filter(pk=object_id).only("state").first() if object_id.isdigit() else None
        if promise is not None:
            extra_context["promise_transitions"] = [
                {"label": label, "url": reverse("admin:promises_servicepromise_transition",
                                                args=[promise.pk, name])}
                for name, (_service, label, states) in TRANSITIONS.items() if promise.state in states
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    # --- transition buttons ------------------------------------------------------------------
    def get_urls(self):
        return [
            path("<int:object_id>/transition/<str:name>/",
                 self.admin_site.admin_view(self.transition_view),
                 name="promises_servicepromise_transition"),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id: int, name: str):
        promise = get_object_or_404(self.get_queryset(request), pk=object_id)
        if name not in TRANSITIONS or not self.has_view_permission(request, promise):
            return HttpResponseRedirect(reverse("admin:promises_servicepromise_change", args=[object_id]))
        service, label, _states = TRANSITIONS[name]
        if name == "verify":
            form = VerifyForm(request.POST or None)
        elif name == "submit":
            form = SubmitForm(request.POST or None, guidance=list(guidance_current(category_id=promise.category_id)))
        else:
            form = CommentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if name == "verify":
                kwargs = {"actual_value": form.cleaned_data["actual_value"], "reason": form.cleaned_data["reason"]}
            else:
                kwargs = {"comment": form.cleaned_data["comment"]}
            if name == "submit":
                kwargs["acknowledged_guidance_ids"] = [int(g) for g in form.cleaned_data.get("guidance", [])]
            ok, _result = call_service(request, service, promise_id=promise.pk, **kwargs)
            if ok:
                promise.refresh_from_db()
                self.message_user(request, gettext("%(action)s: %(promise)s is now %(state)s.") % {
                    "action": label, "promise": promise, "state": promise.get_state_display()}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:promises_servicepromise_change", args=[promise.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "original": promise, "title": f"{label}: {promise}",
            "form": form, "action_label": label,
            # The maker sees the category's record next to the guidance they acknowledge.
            "category_record": category_record(category_id=promise.category_id) if name == "submit" else None,
        }
        return TemplateResponse(request, "admin/promises/servicepromise/transition.html", context)

    # --- bulk actions --------------------------------------------------------------------------
    @admin.action(description=_("Delete selected draft promises"), permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Replaces Django's bulk delete (which deletes rows directly): promise_delete per draft."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)  # Django's confirmation page
        bulk_service_action(self, request, queryset, services.promise_delete, id_kwarg="promise_id",
                            done=gettext("Deleted"))
        return None

    @admin.action(description=_("Submit selected promises for review"))
    def submit_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_submit, id_kwarg="promise_id",
                            done=gettext("Submitted"))

    @admin.action(description=_("Resubmit selected promises after rework"))
    def resubmit_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_resubmit, id_kwarg="promise_id",
                            done=gettext("Resubmitted"))

    @admin.action(description=_("Withdraw selected promises"))
    def withdraw_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_withdraw, id_kwarg="promise_id",
                            done=gettext("Withdrawn"))

    @admin.action(description=_("Commit selected promises to the customer"))
    def commit_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_commit, id_kwarg="promise_id",
                            done=gettext("Committed"))

    @admin.action(description=_("Hand selected promises over to delivery"))
    def handover_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_handover, id_kwarg="promise_id",
                            done=gettext("Handed over"))

    @admin.action(description=_("Close selected verified promises"))
    def close_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_close, id_kwarg="promise_id",
                            done=gettext("Closed"))

    @admin.action(description=_("Revoke the customer status links of the selected promises"))
    def revoke_status_link_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_status_link_revoke, id_kwarg="promise_id",
                            done=gettext("Status link revoked"))

    @admin.action(description=_("Issue new customer status links for the selected promises"))
    def reissue_status_link_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, services.promise_status_link_reissue, id_kwarg="promise_id",
                            done=gettext("Status link reissued"))


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only trail: readable, never written from here."""

    list_display = ("at", "promise", "subject", "action", "from_state", "to_state", "actor", "gate_review")
    list_filter = ("subject", "action", "to_state", "at")
    list_select_related = ("promise", "actor", "gate_review")
    search_fields = ("promise__title", "comment", "action", "actor__username")
    date_hierarchy = "at"
    fields = ("at", "subject", "promise_link", "gate_review_link", "action", "from_state", "to_state", "actor",
              "comment")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            selectors.trail_visible_q(request.user),
            promise__in=ServicePromise.objects.filter(selectors.promise_visible_q(request.user)))

    @admin.display(description=_("promise"))
    def promise_link(self, obj):
        return admin_change_link(obj.promise)

    @admin.display(description=_("gate review"))
    def gate_review_link(self, obj):
        return admin_change_link(obj.gate_review)


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The interim notices sent to customers (written by promises/clock.py): looked up, never edited."""

    list_display = ("created_at", "promise", "kind", "email", "language")
    list_filter = ("kind", "language")
    list_select_related = ("promise",)
    search_fields = ("email", "promise__title")
    readonly_fields = ("promise", "kind", "event", "email", "language", "created_at")

