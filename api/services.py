"""Writes of the API itself: the tokens programs authenticate with."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from core.errors import ValidationFailed

from .error_codes import ApiErrorCode


def token_create(*, username: str, password: str, request=None) -> Token:
    """A fresh token for the user with these credentials; an earlier token of theirs stops working."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        # One message for unknown user, wrong password and inactive account: nothing to enumerate.
        raise ValidationFailed(_("The username or password is wrong."), code=ApiErrorCode.INVALID_CREDENTIALS)
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def token_revoke(*, user) -> int:
    """Revoke the user's token; programs using it get 401 from then on. Returns how many were revoked."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted
