"""Reads of recorded feedback and of the customer's rating."""

from __future__ import annotations

from django.db.models import QuerySet

from promises.models import PromiseState, ServicePromise

from ..models import Feedback, FeedbackSource

# A promise is rated by its customer once it has been verified.
RATEABLE_STATES = [PromiseState.FULFILLED, PromiseState.BROKEN, PromiseState.CLOSED]


def feedback_list(*, category_id: int | None = None, kind: str | None = None) -> QuerySet[Feedback]:
    qs = Feedback.objects.select_related("promise", "category", "customer", "recorded_by")
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
