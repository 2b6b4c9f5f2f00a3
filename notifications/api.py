"""The API of a user's own notifications: the in-app inbox and outgoing webhook subscriptions.

Thin: shapes in notifications/serializers.py, rules in the services and selectors. Registered in
api/urls.py; like every app's API it uses what the `api` package shares (the view mixin).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.mixins import ID_PATTERN, ApiMixin, validated

from . import selectors, user_settings
from .serializers import (
    InboxItemSerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookSerializer,
)


@extend_schema_view(list=extend_schema(
    summary="My inbox, newest first",
    parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread items.")],
))
class InboxViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = InboxItemSerializer
    lookup_value_regex = ID_PATTERN
    filter_backends: list = []

    def list(self, request):
        unread = request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        page = self.paginate_queryset(selectors.inbox_list(user=request.user, unread_only=unread))
        return self.get_paginated_response(InboxItemSerializer(page, many=True).data)

    @extend_schema(request=None, responses=InboxItemSerializer, summary="Mark one inbox item read")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        item = user_settings.inbox_mark_read(user=request.user, item_id=int(pk))
        return Response(InboxItemSerializer(item).data)

    @extend_schema(request=None, summary="Mark all my inbox items read",
                   responses=inline_serializer("InboxMarked", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": user_settings.inbox_mark_all_read(user=request.user)})

    @extend_schema(summary="How many inbox items are unread",
                   responses=inline_serializer("InboxUnread", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request):
        return Response({"unread": selectors.inbox_unread_count(user=request.user)})


class WebhookViewSet(ApiMixin, viewsets.GenericViewSet):
    """A user's own outgoing webhooks: signed JSON posts of the events they receive."""

    serializer_class = WebhookSerializer
    lookup_value_regex = ID_PATTERN
    filter_backends: list = []

    @extend_schema(summary="My webhooks")
    def list(self, request):
        page = self.paginate_queryset(selectors.webhook_subscription_list(user=request.user))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(request=WebhookCreateSerializer, responses={201: WebhookCreatedSerializer},
                   summary="Add a webhook (the answer shows its signing secret, once)")
    def create(self, request):
        data = validated(WebhookCreateSerializer, request.data)
        hook = user_settings.webhook_subscription_create(user=request.user, name=data["name"], url=data["url"],
                                                         kinds=data["kinds"], secret=data.get("secret"))
        return Response(WebhookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=WebhookSerializer, summary="Switch a webhook back on")
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        hook = user_settings.webhook_subscription_enable(subscription_id=int(pk), user=request.user)
        return Response(WebhookSerializer(hook).data)

    @extend_schema(request=None, responses=WebhookSerializer, summary="Switch a webhook off")
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        hook = user_settings.webhook_subscription_disable(subscription_id=int(pk), user=request.user)
        return Response(WebhookSerializer(hook).data)
