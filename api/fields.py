"""Request fields every app's API shares: ids within the database's range, bounded text, a comment."""

from __future__ import annotations

from rest_framework import serializers

# The database's bigint range: ids beyond it cannot exist and must not reach a query.
MAX_ID = 2**63 - 1
TEXT_MAX = 10_000


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 - reads like a field class
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
