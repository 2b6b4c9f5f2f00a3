"""Writes of the API itself: the tokens programs authenticate with."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotAllowed, ValidationFailed

from .error_codes import ApiErrorCode
from .models import ApiToken


@dataclass(frozen=True)
class IssuedToken:
    key: str  # shown once; only its digest is stored
    created: dt.datetime
    expires_at: dt.datetime


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, user: AbstractBaseUser, now: dt.datetime | None = None) -> IssuedToken:
    """A fresh token for the user; an earlier token of theirs stops working."""
    now = now or timezone.now()
    key = secrets.token_hex(20)  # 40 hex digits, the shape clients know
    expires_at = now + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    with transaction.atomic():
        ApiToken.objects.filter(user=user).delete()
        ApiToken.objects.create(user=user, digest=token_digest(key), created=now, expires_at=expires_at,
                                password_fingerprint=user.get_session_auth_hash())
    return IssuedToken(key=key, created=now, expires_at=expires_at)


def token_create(*, username: str, password: str, request=None, now: dt.datetime | None = None) -> IssuedToken:
    """A fresh token for the user with these credentials. Failures count towards the sign-in lockout
    (django-axes, per account and per address), like the admin's login form."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # django-axes' middleware answers (api/lockout.py); this only stops the sign-in.
        raise NotAllowed(_("Too many failed sign-ins: this account or address is locked for a while."),
                         code=ApiErrorCode.LOCKED_OUT)
    if user is None or not user.is_active:
        # One message for unknown user, wrong password and inactive account: nothing to enumerate.
        raise ValidationFailed(_("The username or password is wrong."), code=ApiErrorCode.INVALID_CREDENTIALS)
    return token_issue(user=user, now=now)


def token_revoke(*, user: AbstractBaseUser) -> int:
    """Revoke the user's token; programs using it get 401 from then on. Returns how many were revoked."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
