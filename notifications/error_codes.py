"""The error codes of the notifications app (the `error` of the JSON error shape)."""

from __future__ import annotations

from enum import StrEnum


class NotificationErrorCode(StrEnum):
    INVALID_URL = "invalid_url"
    INVALID_KIND = "invalid_kind"
    # A webhook's target (issue 9): user name or password in the URL; an address in an internal network.
    URL_USERINFO = "webhook_url_userinfo"
    INTERNAL_TARGET = "webhook_internal_target"
