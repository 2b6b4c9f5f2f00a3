"""The customer's rating of a verified promise, posted from the status page (no login)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Conflict, DomainError, NotFound
from promises.views import (
    STATUS_PAGE_LANGUAGES,
    status_page_promise,
    status_page_response,
    status_page_throttled,
)

from .forms import CustomerRatingForm
from .services.intake import feedback_record_customer_rating


def _back_to_the_page(token: str, *, outcome: str, language: str) -> HttpResponseRedirect:
    # Post/redirect/get: a reload does not post the rating again.
    query = {"rating": outcome, **({"lang": language} if language else {})}
    return HttpResponseRedirect(f"{reverse('promise-status', args=[token])}?{urlencode(query)}#rating")


@require_POST
def customer_rating(request, token: str):
    throttled = status_page_throttled(request)
    if throttled:
        return throttled
    language = request.GET.get("lang", "") if request.GET.get("lang") in STATUS_PAGE_LANGUAGES else ""
    form = CustomerRatingForm(data=request.POST)
    if form.is_valid():
        try:
            feedback_record_customer_rating(status_token=token, **form.cleaned_data)
            return _back_to_the_page(token, outcome="thanks", language=language)
        except NotFound:
            return HttpResponse(_("Unknown status link."), status=404, content_type="text/plain; charset=utf-8")
        except Conflict:
            return _back_to_the_page(token, outcome="already", language=language)
        except DomainError as error:
            for field, message in error.fields.items():
                form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
    try:
        promise = status_page_promise(token)
    except Http404:  # an unknown link answers exactly like the service's NotFound above
        return HttpResponse(_("Unknown status link."), status=404, content_type="text/plain; charset=utf-8")
    return status_page_response(request, promise, rating_form=form, status=400)
