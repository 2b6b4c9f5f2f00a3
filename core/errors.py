"""Domain errors raised by services. Each names the rule it enforces.

Views and the API map them to HTTP: ValidationFailed 400, NotAllowed 403, NotFound 404,
IllegalTransition and Conflict 409.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}

    def as_dict(self) -> dict:
        return {"error": self.code, "detail": self.message, "fields": self.fields}


class ValidationFailed(DomainError):
    code = "invalid"
    http_status = 400


class NotAllowed(DomainError):
    code = "not_allowed"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class IllegalTransition(DomainError):
    code = "illegal_transition"
    http_status = 409


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
