"""The error codes of the notifications app (the `error` of the JSON error shape)."""

from __future__ import annotations

from enum import StrEnum


class NotificationErrorCode(StrEnum):
    INVALID_URL = "invalid_url"
    INVALID_KIND = "invalid_kind"
