"""Reads on service promises."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.ids import as_id
from core.roles import is_manager, team_names
from qualitygates.models import GateCheck, GateReview

from .models import Customer, Metric, PromiseCategory, ServicePromise, TransitionLog


def promise_list(*, user=None, state: str | None = None, category_id: int | None = None) -> QuerySet[ServicePromise]:
    qs = ServicePromise.objects.select_related("category", "customer", "owner", "metric")
    if state:
        qs = qs.filter(state=state)
    if category_id:
        qs = qs.filter(category_id=category_id)
    return qs


def promise_detail(*, promise_id: int) -> ServicePromise | None:
    """A promise with its gates, checks, conditions and trail: a fixed number of queries."""
    return (
        ServicePromise.objects.select_related("category", "customer", "owner", "gate_plan", "metric")
        .prefetch_related(
            Prefetch(
                "gate_reviews",
                queryset=GateReview.objects.select_related("owning_team", "decided_by")
                .prefetch_related(Prefetch("checks", queryset=GateCheck.objects.order_by("order", "id")),
                                  "conditions__owner")
                .order_by("round", "order", "id"),
            ),
            Prefetch("trail", queryset=TransitionLog.objects.select_related("actor", "gate_review")
                     .order_by("at", "id")),
        )
        .filter(pk=as_id(promise_id))
        .first()
    )


def promise_by_status_token(*, token: str) -> ServicePromise | None:
    """The promise whose current status link this is; a revoked or unknown token finds nothing."""
    if not token:
        return None
    return ServicePromise.objects.select_related("category", "customer", "metric").filter(status_token=token).first()


def status_link_visible(*, user, promise: ServicePromise) -> bool:
    """Who is shown the customer's status link: the people who speak to the customer about the
    promise — its owner, their department (the promise's origin department) and the managers.
    Gatekeepers review the promise but do not hand out its link. No query: roles are cached."""
    if not user or not user.is_authenticated:
        return False
    return (promise.owner_id == user.pk or is_manager(user)
            or promise.origin_department in team_names(user))


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.order_by("name", "id")


def category_list() -> QuerySet[PromiseCategory]:
    """Categories with their active catalogue metrics (as `active_metrics`): two queries for any number."""
    return PromiseCategory.objects.prefetch_related(
        Prefetch("metrics", queryset=Metric.objects.filter(is_active=True).order_by("name", "id"),
                 to_attr="active_metrics")).order_by("name", "id")



def promise_trail(*, promise_id: int) -> QuerySet[TransitionLog]:
    """The append-only trail of one promise and its gates, oldest first."""
    return (TransitionLog.objects.filter(promise_id=promise_id)
            .select_related("actor", "gate_review").order_by("at", "id"))
