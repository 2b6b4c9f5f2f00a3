"""Request rate limits for the API and the customer status page.

DRF's throttles copy the configured rates once at import time; these read them on every request,
so a changed setting (another environment, a test) applies at once. Counters live in the default
cache, which is Redis in production so that every web process counts the same requests.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_LiveRateMixin, AnonRateThrottle):
    """Anonymous clients, counted per address."""


class UserThrottle(_LiveRateMixin, UserRateThrottle):
    """Signed-in clients (session or token), counted per user."""


class TokenCreateThrottle(_LiveRateMixin, SimpleRateThrottle):
    """Password guessing through the token endpoint: counted per address, whoever is signed in."""

    scope = "token_create"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class StatusPageThrottle(_LiveRateMixin, SimpleRateThrottle):
    """The customer status page needs no login; counting per address keeps token guessing slow."""

    scope = "status_page"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
