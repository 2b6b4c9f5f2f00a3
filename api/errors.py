"""One error shape for every API response that is not a success:

    {"error": code, "detail": message, "fields": {field: message}}

Domain errors carry their own code and status (core/errors.py); DRF's and Django's exceptions are
mapped to the same shape. Nothing leaves the API as an HTML page or a bare traceback.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.errors import DomainError

logger = logging.getLogger(__name__)

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "not_allowed",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def _printable(text) -> str:
    """Text safe to echo: what cannot be encoded (a lone surrogate from the client) becomes "?"."""
    return str(text).encode("utf-8", "replace").decode("utf-8")


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    return {"error": _printable(code), "detail": _printable(detail),
            "fields": {_printable(name): _printable(message) for name, message in (fields or {}).items()}}


def _flatten(detail, prefix: str = "") -> dict[str, str]:
    """DRF's nested error details as {"field": "message", "checks[0].result": "message"}."""
    out: dict[str, str] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = " ".join(str(item) for item in detail)
        else:
            for i, item in enumerate(detail):
                if item:
                    out.update(_flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix or "non_field_errors"] = str(detail)
    return out


def exception_handler(exc, context) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        body = exc.as_dict()
        return Response(error_body(body["error"], body["detail"], body["fields"]), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        return Response(error_body("invalid", _("The request is not valid: %(fields)s") % {
            "fields": "; ".join(f"{k}: {v}" for k, v in fields.items())}, fields), status=400)
    if isinstance(exc, exceptions.APIException):
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            request = context.get("request")
            authenticator = getattr(request, "authenticators", None)
            if authenticator:
                www = authenticator[0].authenticate_header(request)
                if www:
                    headers["WWW-Authenticate"] = www
        code = _CODES.get(exc.status_code) or (exc.get_codes() if isinstance(exc.get_codes(), str) else "error")
        return Response(error_body(code, exc.detail), status=exc.status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", _("The request body is larger than the server accepts.")),
                        status=413)
    if isinstance(exc, SuspiciousOperation):
        # Too many form fields or files, a malformed multipart body: the client sent what no form has.
        return Response(error_body("invalid", _("The request is malformed: %(reason)s") % {"reason": exc}),
                        status=400)
    if isinstance(exc, DataError):
        # Input the database refuses (a value out of its range) is still bad input, not a crash.
        logger.warning("Database refused input: %s", exc)
        return Response(error_body("invalid", _("A value is out of the range the system can store.")),
                        status=400)
    if isinstance(exc, IntegrityError):
        # Two writers raced for the same unique row; the loser may retry.
        logger.warning("Integrity conflict: %s", exc)
        return Response(error_body("conflict", _("The data was changed at the same moment; reload and "
                                                  "try again.")), status=409)
    logger.exception("Unexpected error in the API", exc_info=exc)
    return Response(error_body("server_error", _("Something went wrong on our side; it has been logged.")),
                    status=500)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def json_not_found(request, exception=None):
    """Unknown URLs under /api/ answer in the API's error shape; elsewhere the product's page
    (web/templates/404.html, in the user's language)."""
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("There is nothing at this address.")), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_permission_denied(request, exception=None):
    """A forbidden request under /api/ answers in the API's error shape; elsewhere the product's page."""
    if _is_api(request):
        return JsonResponse(error_body("not_allowed", _("You may not do this.")), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)


def json_server_error(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", _("Something went wrong on our side; it has been "
                                                          "logged.")), status=500)
    from django.views.defaults import server_error

    return server_error(request)
