"""Request fields every app's API shares: ids within the database's range, text that is text, a
comment, an id that names a stored row, and a user reference in answers."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# The database's bigint range: ids beyond it cannot exist and must not reach a query.
MAX_ID = 2**63 - 1
TEXT_MAX = 10_000


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 - reads like a field class
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class StrictTextField(serializers.CharField):
    """Text that arrives as text. DRF's CharField turns 42 into "42"; a program that sends a number
    where a comment belongs has a bug worth hearing about."""

    default_error_messages = {"not_text": _("Not text: send a string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


def OptionalText(**kwargs) -> StrictTextField:  # noqa: N802 - reads like a field class
    """A comment, note or reason: text, may be left out or empty."""
    return StrictTextField(max_length=kwargs.pop("max_length", TEXT_MAX), allow_blank=True, required=False,
                           default="", **kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class InstanceField(serializers.PrimaryKeyRelatedField):
    """An id turned into its row; an id beyond the database's range is refused before any query."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        if isinstance(data, str) and (not data.isascii() or not data.isdigit() or int(data) > MAX_ID):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictTextModelSerializer(serializers.ModelSerializer):
    # A model serializer whose text fields take text only (see StrictTextField). A comment, not a
    # docstring: the schema would show a docstring as every subclass's description.
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.CharField: StrictTextField, models.TextField: StrictTextField}


class CommentSerializer(serializers.Serializer):
    comment = OptionalText()


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class IdFilter(django_filters.NumberFilter):
    """An id query parameter: an integer within the database's range, so no out-of-range value reaches a query."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
