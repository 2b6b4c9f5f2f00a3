"""Admin of the metric catalogue: managers keep it, through promises.metrics (which refuses others
and a change of unit or direction while promises use a metric). A metric is retired, not deleted."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import domain_error_text
from core.errors import DomainError

from . import metrics
from .models import Metric


class MetricForm(forms.ModelForm):
    class Meta:
        model = Metric
        fields = ("name", "name_de", "unit", "unit_de", "direction", "kind", "categories", "is_active")


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    form = MetricForm
    list_display = ("name", "name_de", "unit", "unit_de", "direction", "kind", "category_list", "is_active")
    list_filter = ("is_active", "direction", "kind", "categories")
    search_fields = ("name", "name_de", "unit")
    filter_horizontal = ("categories",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("categories")

    @admin.display(description=_("categories"))
    def category_list(self, obj):
        return ", ".join(c.name for c in obj.categories.all())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in MetricForm.Meta.fields}
        if change:
            metrics.metric_update(metric_id=obj.pk, user=request.user, **data)
            return
        created = metrics.metric_create(user=request.user, **data)
        obj.pk = obj.id = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The service has set the categories; the form's own many-to-many save would bypass it.
        pass

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, domain_error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
