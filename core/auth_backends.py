"""Model permissions bounded by role: the walls of the admin.

Django's ModelBackend grants whatever permissions a user's groups were given. Here a non-superuser
keeps only those on the models their roles configure (core.roles.ADMIN_MODELS): a manager who
gives the managers group `auth.change_user` gains nothing from it, and cannot tick `is_superuser`
on themselves; a promise maker given `view_servicepromise` still sees no business record in the
admin. Superusers keep every permission."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .roles import admin_models


class RoleBoundModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        permissions = super().get_all_permissions(user_obj, obj)
        if not user_obj.is_active or user_obj.is_anonymous or user_obj.is_superuser or obj is not None:
            return permissions
        allowed = admin_models(user_obj)
        return {perm for perm in permissions if _model_of(perm) in allowed}


def _model_of(permission: str) -> str:
    """"feedback.view_improvementitem" -> "feedback.improvementitem"."""
    app_label, _, codename = permission.partition(".")
    return f"{app_label}.{codename.partition('_')[2]}"
