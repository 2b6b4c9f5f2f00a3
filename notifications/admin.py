"""Admin for the outbox: events are written by the services in the transaction of their change and
are never edited by hand."""

from __future__ import annotations

from django.contrib import admin

from .models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "promise", "gate_review", "actor")
    list_filter = ("kind", "created_at")
    list_select_related = ("promise", "gate_review", "actor")
    search_fields = ("kind", "promise__title")
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "promise", "gate_review", "actor", "payload", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
