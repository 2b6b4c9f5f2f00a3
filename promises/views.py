from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.throttling import StatusPageThrottle
from feedback.selectors.intake import customer_rating_state

from .clock import customer_notices_for_promise, next_customer_update
from .customer_view import customer_status
from .selectors import promise_by_status_token


@require_GET
def promise_status(request, token: str):
    """The customer's view of one promise: no login, nothing internal."""
    throttle = StatusPageThrottle()
    if not throttle.allow_request(request, None):
        wait = throttle.wait()
        response = HttpResponse(_("Too many requests; please try again in a minute."), status=429,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(int(wait or 60) + 1)
        return response
    promise = promise_by_status_token(token=token)
    if promise is None or promise.state == "draft":
        raise Http404("Unknown status link.")
    language = request.GET.get("lang") or (promise.customer.language if promise.customer_id else None)
    with translation.override(language if language in ("en", "de") else translation.get_language()):
        status = customer_status(promise.state, verified_kept=promise.kept)
        return render(request, "promises/status.html", {
            "promise": promise, "status": status,
            "last_update": promise.customer_visible_at,
            "customer_notices": customer_notices_for_promise(promise_id=promise.pk),
            "next_update": next_customer_update(promise),
            "rating": customer_rating_state(promise=promise),
        })
