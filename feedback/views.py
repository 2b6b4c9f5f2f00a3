"""The customer's rating of a verified promise, posted from the status page (no login)."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Conflict, DomainError, NotFound
from core.throttling import StatusPageThrottle

from .serializers import CustomerRatingSerializer
from .services.intake import feedback_record_customer_rating


@require_POST
def customer_rating(request, token: str):
    throttle = StatusPageThrottle()
    if not throttle.allow_request(request, None):
        response = HttpResponse(_("Too many requests; please try again in a minute."), status=429,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(int(throttle.wait() or 60) + 1)
        return response
    rating = CustomerRatingSerializer(data=request.POST.dict())
    outcome = "invalid"
    if rating.is_valid():
        try:
            feedback_record_customer_rating(status_token=token, **rating.validated_data)
            outcome = "thanks"
        except NotFound:
            return HttpResponse(_("Unknown status link."), status=404, content_type="text/plain; charset=utf-8")
        except Conflict:
            outcome = "already"
        except DomainError:
            outcome = "invalid"
    # Post/redirect/get: a reload does not post the rating again.
    return HttpResponseRedirect(reverse("promise-status", args=[token]) + f"?rating={outcome}#rating")
