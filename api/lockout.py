"""The answer to a locked-out sign-in (django-axes calls it, AXES_LOCKOUT_CALLABLE): the API's JSON
error shape under /api/, a short page elsewhere (the admin's login)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .error_codes import ApiErrorCode


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed sign-ins: this account or address is locked for %(minutes)s minutes.") % {
        "minutes": minutes}
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        return JsonResponse({"error": str(ApiErrorCode.LOCKED_OUT), "detail": message, "fields": {}}, status=status,
                            headers={"Retry-After": str(minutes * 60)})
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8",
                        headers={"Retry-After": str(minutes * 60)})


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request. Code that authenticates without one
    (the test client's login, a management command) is not a sign-in attempt from an address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
