"""Small helpers shared by the admin modules: they keep the admin thin around the services.

The admin never changes state itself; it calls a service and turns a domain error into an
admin error message, so bad input shows the rule it broke instead of a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError


def domain_error_text(exc: DomainError) -> str:
    """The message of a domain error, with its per-field details when it has some."""
    if not exc.fields:
        return exc.message
    details = "; ".join(f"{name}: {text}" for name, text in exc.fields.items())
    return f"{exc.message} ({details})"


def call_service(request, service: Callable[..., Any], /, **kwargs) -> tuple[bool, Any]:
    """Run a service for the admin user; a domain error becomes an error message."""
    try:
        return True, service(user=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, domain_error_text(exc))
        return False, None


def bulk_service_action(modeladmin, request, queryset, service: Callable[..., Any], *, id_kwarg: str,
                        done: str) -> None:
    """`done` is the success message: either a label ("Submitted" → "Submitted: 3") or a format with
    %(count)d ("%(count)d deliveries queued again.")."""
    # One service call per selected row, each in its own transaction: one failure does not undo
    # the others, and successes and failures are reported separately.
    succeeded, failures = 0, []
    for pk in queryset.order_by("pk").values_list("pk", flat=True):
        try:
            service(user=request.user, **{id_kwarg: pk})
            succeeded += 1
        except DomainError as exc:
            failures.append(f"#{pk}: {domain_error_text(exc)}")
    if succeeded:
        text = done % {"count": succeeded} if "%(count)" in done else f"{done}: {succeeded}"
        modeladmin.message_user(request, text, messages.SUCCESS)
    for failure in failures:
        modeladmin.message_user(request, failure, messages.ERROR)


def admin_change_link(obj, text: str | None = None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else str(obj))


class ReadOnlyAdminMixin:
    """For rows the services write (trail, gate reviews, checks, …): the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
