"""Shapes of the API's own requests and answers: the signed-in user and tokens. Each app's
resources have theirs in `<app>/serializers.py`; shared fields are in api/fields.py."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from core import roles


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()
    is_manager = serializers.SerializerMethodField()
    is_promise_maker = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "teams", "is_manager", "is_promise_maker"]

    def get_teams(self, user) -> list[str]:
        return sorted(roles.team_names(user))

    def get_is_manager(self, user) -> bool:
        return roles.is_manager(user)

    def get_is_promise_maker(self, user) -> bool:
        return roles.is_promise_maker(user)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once: only its hash is stored.")
    created = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="After this, or after a password change, create a new one.")
