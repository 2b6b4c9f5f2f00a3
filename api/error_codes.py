"""The error codes the API itself raises (the `error` of the JSON error shape)."""

from __future__ import annotations

from enum import StrEnum


class ApiErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED_OUT = "locked_out"  # too many failed sign-ins (django-axes)
