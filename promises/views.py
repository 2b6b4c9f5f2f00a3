"""The customer's status page: no login, nothing internal, in the customer's language."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.throttling import StatusPageThrottle
from feedback.forms import CustomerRatingForm
from feedback.selectors.intake import customer_rating_state

from .clock import customer_notices_for_promise, next_customer_update
from .customer_view import customer_commitment, customer_measured, customer_status, customer_timeline
from .models import ServicePromise
from .selectors import promise_by_status_token

STATUS_PAGE_LANGUAGES = ("en", "de")


def status_page_throttled(request) -> HttpResponse | None:
    """The status page and its form are rate limited per address: a link is a secret, not a guess."""
    throttle = StatusPageThrottle()
    if throttle.allow_request(request, None):
        return None
    response = HttpResponse(_("Too many requests; please try again in a minute."), status=429,
                            content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(throttle.wait() or 60) + 1)
    return response


def status_page_promise(token: str) -> ServicePromise:
    promise = promise_by_status_token(token=token)
    if promise is None or promise.state == "draft":
        raise Http404("Unknown status link.")
    return promise


def status_page_language(request, promise: ServicePromise) -> str:
    """The language the customer chose on the page (`?lang=`), else the one we know they speak,
    else what their browser asks for (LocaleMiddleware has read Accept-Language)."""
    for candidate in (request.GET.get("lang"), promise.customer.language if promise.customer_id else None):
        if candidate in STATUS_PAGE_LANGUAGES:
            return candidate
    current = translation.get_language() or settings.LANGUAGE_CODE
    return current if current in STATUS_PAGE_LANGUAGES else settings.LANGUAGE_CODE


def status_page_response(request, promise: ServicePromise, *, rating_form: CustomerRatingForm | None = None,
                         rating_outcome: str = "", status: int = 200) -> HttpResponse:
    language = status_page_language(request, promise)
    with translation.override(language):
        notices = customer_notices_for_promise(promise_id=promise.pk)
        rating = customer_rating_state(promise=promise)
        if rating_form is None and rating["can_rate"]:
            rating_form = CustomerRatingForm()
        return render(request, "promises/status.html", {
            "promise": promise,
            "status": customer_status(promise.state, verified_kept=promise.kept),
            "timeline": customer_timeline(promise=promise, notices=notices),
            "commitment": customer_commitment(promise),
            "measured": customer_measured(promise),
            "last_update": promise.customer_visible_at,
            "next_update": next_customer_update(promise),
            "rating": rating,
            "rating_form": rating_form if rating["can_rate"] else None,
            "rating_outcome": rating_outcome or request.GET.get("rating", ""),
            "language": language,
            "other_languages": [(code, name) for code, name in settings.LANGUAGES if code != language],
            "company": {"name": settings.COMPANY_NAME, "email": settings.COMPANY_CONTACT_EMAIL,
                        "phone": settings.COMPANY_CONTACT_PHONE,
                        "phone_link": "".join(c for c in settings.COMPANY_CONTACT_PHONE if c.isdigit() or c == "+")},
        }, status=status)


@require_GET
def promise_status(request, token: str):
    """The customer's view of one promise: what we promised, where it stands, what happened and when
    they hear from us next; once verified, their rating."""
    throttled = status_page_throttled(request)
    if throttled:
        return throttled
    return status_page_response(request, status_page_promise(token))
