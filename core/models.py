"""Building blocks shared by the apps' models."""

from __future__ import annotations

import functools
import operator

import pgtrigger
from django.db import models
from django.utils import translation


def in_active_language(english: str, german: str) -> str:
    """Configuration kept in both languages (a category's or a gate's name, a criterion): the German
    text for a German reader where one is kept, else the English one."""
    return german if german and translation.get_language() == "de" else english


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused: a trail is only ever added to."""

    def update(self, **kwargs):  # noqa: ARG002
        raise PermissionError(f"The {self.model._meta.verbose_name_plural} is append-only.")

    def delete(self):
        raise PermissionError(f"The {self.model._meta.verbose_name_plural} is append-only.")


class AppendOnlyModel(models.Model):
    """An integrity guard, not business logic: a written trail entry is never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(f"The {self._meta.verbose_name_plural} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"The {self._meta.verbose_name_plural} is append-only.")


def any_field_changed(*fields: str) -> pgtrigger.Q:
    """A trigger condition: one of these fields differs between the row before and after the UPDATE."""
    return functools.reduce(operator.or_, (pgtrigger.Q(**{f"old__{name}__df": pgtrigger.F(f"new__{name}")})
                                           for name in fields))
