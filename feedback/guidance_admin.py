"""Admin of the guidance published to promise makers: published and retired through the services, never
edited or deleted (promises record which guidance their submitter acknowledged)."""

from __future__ import annotations

import functools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import bulk_service_action
from core.errors import DomainError
from promises.models import PromiseCategory

from .admin_forms import form_errors, render_form
from .models import Guidance
from .services.guidance import guidance_publish, guidance_retire


class GuidanceForm(forms.Form):
    categories = forms.ModelMultipleChoiceField(label=_("categories"), queryset=PromiseCategory.objects.all())
    text = forms.CharField(label=_("guidance"), widget=forms.Textarea(attrs={"rows": 4}))


@admin.register(Guidance)
class GuidanceAdmin(admin.ModelAdmin):
    list_display = ("category", "text", "improvement", "published_at", "retired_at")
    list_filter = ("category", ("retired_at", admin.EmptyFieldListFilter))
    list_select_related = ("category", "improvement")
    readonly_fields = ("category", "text", "improvement", "published_by", "published_at", "retired_at", "retired_by",
                       "retire_reason", "superseded_by")
    actions = ["retire_selected"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # retired, not deleted: promises record which guidance their submitter acknowledged

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = GuidanceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                guidance_publish(user=request.user, text=form.cleaned_data["text"],
                                 category_ids=[c.pk for c in form.cleaned_data["categories"]])
            except DomainError as exc:
                form_errors(form, exc)
            else:
                self.message_user(request, gettext("Guidance published."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:feedback_guidance_changelist"))
        return render_form(self, request, "admin/feedback/form.html", gettext("Publish guidance"), form=form,
                       action_label=gettext("Publish"))

    @admin.action(description=_("Retire selected guidance"))
    def retire_selected(self, request, queryset):
        bulk_service_action(self, request, queryset,
                            functools.partial(guidance_retire, reason=gettext("Retired with the admin's bulk action")),
                            id_kwarg="guidance_id", done=gettext("Retired"))
