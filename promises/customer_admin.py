"""Admin for customers and their personal data: recording and correcting a customer, and for
managers the export and erasure of a contact's personal data with its append-only log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import ReadOnlyAdminMixin, bulk_service_action, call_service, domain_error_text
from core.errors import DomainError
from core.roles import is_manager

from . import personal_data, services
from .models import Customer, PersonalDataLog
from .selectors import customer_visible_q


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "segment", "email", "language", "crm_reference", "promise_count", "erased_at")
    list_filter = ("language", "segment")
    search_fields = ("name", "email", "crm_reference", "segment")
    actions = ("export_personal_data", "erase_personal_data")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_manager(request.user):
            # The services refuse anyone else as well; the menu does not offer what would be refused.
            for name in ("export_personal_data", "erase_personal_data"):
                actions.pop(name, None)
        return actions

    @admin.action(description=_("Export the personal data of the selected customers (JSON)"))
    def export_personal_data(self, request, queryset):
        exports = []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            ok, data = call_service(request, personal_data.customer_personal_data_export, customer_id=pk)
            if not ok:
                return None
            exports.append(data)
        response = JsonResponse(exports[0] if len(exports) == 1 else exports, safe=False,
                                json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
        return response

    @admin.action(description=_("Erase the personal data of the selected customers (pseudonymise)"))
    def erase_personal_data(self, request, queryset):
        if not request.POST.get("post"):
            return TemplateResponse(request, "admin/promises/customer/erase_confirmation.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta, "customers": list(queryset),
                "title": gettext("Erase personal data"), "action": "erase_personal_data",
            })
        bulk_service_action(self, request, queryset, personal_data.customer_personal_data_erase,
                            id_kwarg="customer_id", done=gettext("Personal data erased"))
        return None

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(customer_visible_q(request.user))
                .annotate(_promise_count=Count("promises")))

    @admin.display(description=_("promises"), ordering="_promise_count")
    def promise_count(self, obj):
        return obj._promise_count

    def save_model(self, request, obj, form, change):
        if change:
            # Correcting a customer's contact data has no rule of its own; recording one has.
            super().save_model(request, obj, form, change)
            return
        created = services.customer_create(user=request.user, **{
            name: form.cleaned_data[name] for name in ("name", "segment", "email", "language", "crm_reference")})
        obj.pk = obj.id = created.pk
        obj._state.adding = False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, domain_error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(PersonalDataLog)
class PersonalDataLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who exported or erased a customer's personal data: append-only, looked up by managers."""

    list_display = ("at", "action", "customer", "actor")
    list_filter = ("action", "at")
    list_select_related = ("customer", "actor")
    fields = ("at", "action", "customer", "actor", "counts")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user) and super().has_view_permission(request, obj)
