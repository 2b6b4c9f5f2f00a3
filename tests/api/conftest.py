"""API clients per role, authenticated with real tokens (as programs use the API)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.services import token_issue


def token_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        key = token_issue(user=user).key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Throttle counters live in the cache; one test's requests must not count against the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def role_users(seller, service_user, legal_user, manager):
    """The roles of the authorization matrix. The promises are the seller's; the first approval gate
    is the service team's, so legal is a gatekeeper of another team."""
    return {"anon": None, "maker": seller, "gk_own": service_user, "gk_other": legal_user, "manager": manager}


@pytest.fixture
def api(role_users):
    """api(role) -> a client authenticated with a token of that role's user."""
    return lambda role: token_client(role_users[role])

