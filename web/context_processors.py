"""The header every product page shows: navigation by role and the bell's unread count."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from core import roles
from notifications.selectors import inbox_unread_count
from web.navigation import nav_items


def workplace(request) -> dict:
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    # Lazy: the admin and the API render templates too, and must not pay for the product's header.
    return {
        "nav_items": SimpleLazyObject(lambda: nav_items(user)),
        "unread_count": SimpleLazyObject(lambda: inbox_unread_count(user=user)),
        "is_manager": SimpleLazyObject(lambda: roles.is_manager(user)),
    }
