"""Reads of recorded feedback and of the customer's rating."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.ids import as_id
from core.roles import is_manager
from promises.models import Customer, PromiseState, ServicePromise
from promises.selectors import NOTHING, customer_visible_q, promise_visible_q

from ..models import Feedback, FeedbackSource

# A promise is rated by its customer once it has been verified.
RATEABLE_STATES = [PromiseState.FULFILLED, PromiseState.BROKEN, PromiseState.CLOSED]


def feedback_visible_q(user) -> Q:
    """Feedback on a promise follows the promise's visibility; feedback on a customer without a
    promise follows the customer's; whoever recorded a feedback sees it; managers see all."""
    if user is None or not user.is_authenticated:
        return NOTHING
    if is_manager(user):
        return Q()
    return (Q(recorded_by_id=user.pk)
            | Q(promise__in=ServicePromise.objects.filter(promise_visible_q(user)).values("pk"))
            | Q(promise__isnull=True, customer__in=Customer.objects.filter(customer_visible_q(user)).values("pk")))


def feedback_list(*, user, category_id: int | None = None, kind: str | None = None) -> QuerySet[Feedback]:
    qs = (Feedback.objects.filter(feedback_visible_q(user))
          .select_related("promise", "category", "customer", "recorded_by"))
    if category_id:
        qs = qs.filter(category_id=category_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def promise_is_rateable(promise: ServicePromise) -> bool:
    return promise.state in RATEABLE_STATES and promise.verified_at is not None


def customer_rating_state(*, promise: ServicePromise) -> dict:
    """For the status page: whether the customer may still rate this promise, and their rating if given."""
    given = (Feedback.objects.filter(promise_id=promise.pk, source=FeedbackSource.CUSTOMER)
             .values("csat_score", "kept_as_seen").first())
    return {"can_rate": promise_is_rateable(promise) and given is None, "given": given}


def feedback_is_visible(*, user, feedback_id: int) -> bool:
    return Feedback.objects.filter(feedback_visible_q(user), pk=as_id(feedback_id)).exists()
