"""Token authentication that looks a key up only when it can be one."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

# DRF's keys are 40 hex digits. Anything else (a NUL byte, 5000 characters) is refused before it
# reaches a query the database would reject.
_KEY = re.compile(r"[0-9a-f]{40}")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        if not _KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(key)
