"""Domain errors raised by services. Each names the rule it enforces.

Views and the API map them to HTTP: ValidationFailed 400, NotAllowed 403, NotFound 404,
IllegalTransition and Conflict 409.

Error codes are part of the public contract (the `error` of the JSON error shape). Each app keeps
its codes in one enum in `<app>/error_codes.py` (`class PromiseErrorCode(StrEnum)`, …) and raises
`NotAllowed(_("…"), code=PromiseErrorCode.NOT_OWNER)`; codes the whole product shares live in
`CommonErrorCode` below. Messages are always translatable (`gettext`).
"""

from __future__ import annotations

from enum import StrEnum


class CommonErrorCode(StrEnum):
    """Codes every app may raise: the default of each error class, and refusals by role."""

    INVALID = "invalid"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    ILLEGAL_TRANSITION = "illegal_transition"
    CONFLICT = "conflict"
    NOT_MANAGER = "not_manager"


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: StrEnum | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}

    def as_dict(self) -> dict:
        return {"error": str(self.code), "detail": str(self.message), "fields": self.fields}


class ValidationFailed(DomainError):
    code = CommonErrorCode.INVALID
    http_status = 400


class NotAllowed(DomainError):
    code = CommonErrorCode.NOT_ALLOWED
    http_status = 403


class NotFound(DomainError):
    code = CommonErrorCode.NOT_FOUND
    http_status = 404


class IllegalTransition(DomainError):
    code = CommonErrorCode.ILLEGAL_TRANSITION
    http_status = 409


class Conflict(DomainError):
    code = CommonErrorCode.CONFLICT
    http_status = 409
