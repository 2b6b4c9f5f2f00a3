"""The tokens programs authenticate with: only a hash of the key is stored, each expires, and a
password change revokes them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    # One per user: a new token replaces the earlier one.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token",
        verbose_name=_("user"))
    # sha256 of the key; the key itself is shown once, in the answer that creates it.
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    # The user's session hash when the token was made (an HMAC of the password hash, as Django's
    # sessions keep it): after a password change it differs, and the token no longer works.
    password_fingerprint = models.CharField(max_length=128, verbose_name=_("password fingerprint"))
    created = models.DateTimeField(verbose_name=_("created"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"API token of user {self.user_id} (expires {self.expires_at:%Y-%m-%d %H:%M})"
