"""Shapes of the notifications API (notifications/api.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import EventKind, InboxItem, WebhookSubscription


class InboxItemSerializer(serializers.ModelSerializer):
    promise = serializers.SerializerMethodField(help_text=_("The promise the item is about, if any."))

    class Meta:
        model = InboxItem
        fields = ["id", "kind", "title", "body", "link", "promise", "created_at", "read_at"]
        read_only_fields = fields

    def get_promise(self, item: InboxItem) -> int | None:
        # The inbox keeps the event's subject ("promise:12"); the API has always shown the promise id.
        kind, _, pk = item.subject.partition(":")
        return int(pk) if kind == "promise" and pk.isdigit() else None


class WebhookSerializer(serializers.ModelSerializer):
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=EventKind.choices), read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "kinds", "is_active", "consecutive_failures", "disabled_at",
                  "disabled_reason", "created_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    """Only the answer to the creation shows the signing secret."""

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=500)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=EventKind.choices), required=False,
                                  default=list, max_length=len(EventKind.choices),
                                  help_text="Event kinds to send; empty for all the user receives.")
    secret = serializers.CharField(min_length=16, max_length=128, required=False,
                                   help_text="The HMAC signing secret; generated when not given.")
