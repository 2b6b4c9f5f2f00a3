"""The API's own views: who is signed in, and the tokens programs authenticate with.

Each app's resources are served by its own `<app>/api.py` (registered in api/urls.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttling import TokenCreateThrottle

from . import serializers as s
from . import services as api_services
from .mixins import ApiMixin, validated


class MeView(ApiMixin, APIView):
    @extend_schema(responses=s.MeSerializer, summary="The signed-in user with their teams and roles")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class TokenView(ApiMixin, APIView):
    """Programs authenticate with `Authorization: Token <key>`; a user gets and revokes their key here."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [*super().get_throttles(), TokenCreateThrottle()]
        return super().get_throttles()

    @extend_schema(request=s.TokenRequestSerializer, responses={201: s.TokenSerializer}, auth=[],
                   summary="Create a token (replaces the user's earlier one)")
    def post(self, request):
        data = validated(s.TokenRequestSerializer, request.data)
        token = api_services.token_create(username=data["username"], password=data["password"],
                                          request=request._request)
        return Response({"token": token.key, "created": token.created, "expires_at": token.expires_at},
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: OpenApiResponse(description="Revoked.")},
                   summary="Revoke the signed-in user's token")
    def delete(self, request):
        api_services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
