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


# --- delivery, settings and the inbox (engineer B) ---------------------------------------------
# Deliveries and inbox items are written by the workers; the admin shows them and offers the one
# manual move (send a failed delivery again) through the service. Webhooks and preferences are
# settings a manager may edit for a user.

from django.contrib import messages  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from core.errors import DomainError  # noqa: E402

from . import services  # noqa: E402
from .models import (  # noqa: E402
    ChannelPreference,
    CustomerNotice,
    Delivery,
    InboxItem,
    NotificationProfile,
    WebhookSubscription,
)


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "key", "channel", "recipient", "address", "state", "attempts", "next_attempt_at",
                    "sent_at")
    list_filter = ("state", "channel", "event__kind")
    list_select_related = ("recipient", "event")
    search_fields = ("key", "address", "recipient__username", "last_error")
    readonly_fields = ("event", "channel", "key", "recipient", "webhook", "address", "language", "state",
                       "attempts", "next_attempt_at", "lease_until", "last_error", "sent_at", "created_at")
    actions = ["send_again"]

    @admin.action(description=_("Send failed deliveries again"))
    def send_again(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                services.delivery_retry(delivery_id=delivery.pk, user=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery.key}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("%(n)d deliveries queued again.") % {"n": done}, messages.SUCCESS)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "url", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active",)
    list_select_related = ("user",)
    search_fields = ("name", "url", "user__username")
    autocomplete_fields = ("user",)
    readonly_fields = ("consecutive_failures", "disabled_at", "disabled_reason", "created_at")


@admin.register(NotificationProfile)
class NotificationProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "language")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel", "enabled")
    list_filter = ("kind", "channel", "enabled")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


@admin.register(InboxItem)
class InboxItemAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("title", "user__username")


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "promise", "kind", "email", "language")
    list_select_related = ("promise",)
    search_fields = ("promise__title", "email")
