"""What every app's API views share: no query parameter a database would refuse, paging, and
parsing a request body into typed values once."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

# A path id: at most 18 digits, so it always fits the database's bigint.
ID_PATTERN = r"[0-9]{1,18}"


class ApiMixin:
    def initial(self, request, *args, **kwargs):
        bad = [key for key, values in request.query_params.lists()
               if "\x00" in key or any("\x00" in v for v in values)]
        if bad:
            raise ValidationError({name: _("Null characters are not allowed.") for name in bad})
        super().initial(request, *args, **kwargs)
        self._require_visible()

    def _require_visible(self) -> None:
        """A record outside the user's read scope does not exist for them: every action on it (read
        or write) answers the view's own 404 for an unknown id, body and all. A view opts in with
        `is_visible(pk) -> bool` (its app's selector) and `not_found(pk)` (the NotFound it raises)."""
        pk = getattr(self, "kwargs", {}).get("pk")
        is_visible = getattr(self, "is_visible", None)
        if pk is not None and is_visible is not None and not is_visible(int(pk)):
            raise self.not_found(pk)

    def _page(self, queryset, serializer_class):
        queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context={"request": self.request}).data)


def validated(serializer_class, data, **kwargs) -> dict:
    """The request body parsed by `serializer_class` into typed values, or a 400 naming the fields.

    A field the serializer does not know is refused rather than dropped: a client that sends
    `state` or misspells `comment` would otherwise believe it was heard. A serializer may name
    its own refusal (`unknown_fields_error(names)`, e.g. the promise's `not_editable`)."""
    serializer = serializer_class(data=data, **kwargs)
    if isinstance(data, Mapping):
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        unknown = sorted(str(name) for name in data if name not in writable)
        if unknown:
            refuse = getattr(serializer, "unknown_fields_error", None)
            raise refuse(unknown) if refuse else ValidationError(
                {name: _("Unknown field: this request does not take it.") for name in unknown})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
