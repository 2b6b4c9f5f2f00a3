"""Token authentication: the key is looked up by its hash, and refused once it expired or its
user's password changed."""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from .models import ApiToken
from .services import token_digest

# Keys are 40 hex digits. Anything else (a NUL byte, 5000 characters) is refused before it reaches a
# query the database would reject.
_KEY = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    model = ApiToken

    def authenticate_credentials(self, key):
        if not _KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("The token has expired: create a new one."))
        if not constant_time_compare(token.password_fingerprint, token.user.get_session_auth_hash()):
            raise exceptions.AuthenticationFailed(_("The password was changed since the token was made: "
                                                    "create a new one."))
        return token.user, token
