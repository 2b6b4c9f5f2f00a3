"""Admin for the outbox and its deliveries. Events are written by the services in the transaction of
their change, deliveries by the workers; here they are looked up, and the few manual moves (send a
failed delivery again, switch a webhook back on) call the notification services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin_helpers import ReadOnlyAdminMixin, bulk_service_action, call_service

from . import delivery, user_settings
from .models import (
    ChannelPreference,
    Delivery,
    EventKind,
    InboxItem,
    NotificationProfile,
    OutboxEvent,
    WebhookSubscription,
)


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows the outbox writes: looked up for support, never edited here."""


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "recipient", "webhook", "address", "state", "attempts", "sent_at", "last_error")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient", "webhook")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "subject", "actor", "fanned_out_at")
    list_filter = ("kind", "created_at")
    list_select_related = ("actor",)
    search_fields = ("kind", "key", "subject")
    date_hierarchy = "created_at"
    readonly_fields = ("kind", "key", "subject", "actor", "recipients", "payload", "created_at", "fanned_out_at")
    inlines = (DeliveryInline,)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "channel", "recipient", "webhook", "address", "state", "attempts",
                    "next_attempt_at", "sent_at")
    list_filter = ("state", "channel", "event__kind")
    list_select_related = ("event", "recipient", "webhook")
    search_fields = ("key", "address", "recipient__username", "last_error")
    readonly_fields = ("event", "channel", "key", "recipient", "webhook", "address", "language", "state",
                       "attempts", "next_attempt_at", "lease_until", "last_error", "sent_at", "created_at")
    actions = ("send_again",)

    @admin.action(description=_("Send selected failed deliveries again"))
    def send_again(self, request, queryset):
        bulk_service_action(self, request, queryset, delivery.delivery_retry, id_kwarg="delivery_id",
                            done=gettext("%(count)d deliveries queued again."))


@admin.register(InboxItem)
class InboxItemAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "title", "subject", "read_at")
    list_filter = ("kind", "read_at")
    list_select_related = ("user",)
    search_fields = ("title", "body", "user__username", "subject")
    readonly_fields = ("user", "delivery", "kind", "title", "body", "link", "subject", "created_at", "read_at")


class WebhookSubscriptionForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(label=_("event kinds"), choices=EventKind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple, help_text=_("None chosen: every kind."))

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "kinds")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Created through the notification service (it checks the URL and the kinds); a subscription
    the workers disabled after repeated failures is switched back on by its owner."""

    form = WebhookSubscriptionForm
    list_display = ("name", "user", "url", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active",)
    list_select_related = ("user",)
    search_fields = ("name", "url", "user__username")
    actions = ("enable_selected", "rotate_secret_selected")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The signing secret is never shown again after its creation (a rotation shows the new one once).
        return ("user", "name", "url", "kinds", "is_active", "consecutive_failures", "disabled_at",
                "disabled_reason", "created_at")

    def get_fields(self, request, obj=None):
        return ("name", "url", "kinds") if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        created = user_settings.webhook_subscription_create(
            user=request.user, name=form.cleaned_data["name"], url=form.cleaned_data["url"],
            kinds=list(form.cleaned_data["kinds"]))
        obj.pk = obj.id = created.pk
        obj._state.adding = False
        self.message_user(request, gettext("Signing secret of %(name)s, shown this once: %(secret)s")
                          % {"name": created.name, "secret": created.secret}, messages.WARNING)

    @admin.action(description=_("Give selected webhooks a new signing secret"))
    def rotate_secret_selected(self, request, queryset):
        for subscription in queryset:
            ok, secret = call_service(request, user_settings.webhook_subscription_rotate_secret,
                                      subscription_id=subscription.pk)
            if ok:
                self.message_user(request, gettext("New signing secret of %(name)s, shown this once: %(secret)s")
                                  % {"name": subscription.name, "secret": secret}, messages.WARNING)

    @admin.action(description=_("Switch selected webhooks back on"))
    def enable_selected(self, request, queryset):
        bulk_service_action(self, request, queryset, user_settings.webhook_subscription_enable,
                            id_kwarg="subscription_id", done=gettext("Switched on"))


@admin.register(NotificationProfile)
class NotificationProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "language")
    list_filter = ("language",)
    list_select_related = ("user",)
    search_fields = ("user__username",)


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "channel", "enabled")
    list_filter = ("channel", "kind", "enabled")
    list_select_related = ("user",)
    search_fields = ("user__username",)
