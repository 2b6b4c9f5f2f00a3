"""Promises in each lifecycle state, reached through the services as users would reach them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from promises import services as promises
from promises.models import ServicePromise
from qualitygates import services as gates
from qualitygates.conditions import ConditionInput
from qualitygates.models import GateReview, GateStep, ReviewState
from tests.factories import all_checks_met


def open_gate(promise: ServicePromise, step: str | None = None) -> GateReview:
    qs = promise.gate_reviews.filter(state=ReviewState.OPEN)
    if step:
        qs = qs.filter(step=step)
    return qs.order_by("-round", "order").get()


def go(promise: ServicePromise, user, **kwargs) -> GateReview:
    review = open_gate(promise)
    return gates.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review),
                             **kwargs)


class Scenario:
    """Builds what a test needs from the standard plan: service and legal decide approval, delivery
    decides delivery, service decides closure. The seller owns every promise."""

    def __init__(self, make_promise, seller, service_user, legal_user, delivery_user):
        self.make_promise = make_promise
        self.seller, self.service, self.legal, self.delivery = seller, service_user, legal_user, delivery_user

    def draft(self) -> ServicePromise:
        return self.make_promise()

    def in_review(self) -> ServicePromise:
        """Submitted: the service team's Feasibility gate is open."""
        return promises.promise_submit(promise_id=self.draft().pk, user=self.seller)

    def rework(self) -> ServicePromise:
        promise = self.in_review()
        gates.gate_decide(review_id=open_gate(promise).pk, user=self.service, decision="recycle",
                          comment="Capacity unclear")
        promise.refresh_from_db()
        return promise

    def held_gate(self) -> GateReview:
        promise = self.in_review()
        return gates.gate_decide(review_id=open_gate(promise).pk, user=self.service, decision="hold",
                                 comment="Waiting for the subcontractor")

    def condition(self):
        """A conditional go at the Feasibility gate; the condition is the second service user's."""
        promise = self.in_review()
        due = timezone.now() + dt.timedelta(days=3)
        review = go(promise, self.service,
                    conditions=[ConditionInput(description="Spare parts in stock", owner=self.service, due_at=due)])
        return review.conditions.get()

    def approved(self) -> ServicePromise:
        promise = self.in_review()
        go(promise, self.service)
        go(promise, self.legal)
        promise.refresh_from_db()
        return promise

    def committed(self) -> ServicePromise:
        promise = self.approved()
        return promises.promise_commit(promise_id=promise.pk, user=self.seller)

    def in_delivery(self) -> ServicePromise:
        promise = self.committed()
        promises.promise_handover(promise_id=promise.pk, user=self.seller)
        promise.refresh_from_db()
        review = open_gate(promise, GateStep.DELIVERY)
        gates.gate_decide(review_id=review.pk, user=self.delivery, decision="go", checks=all_checks_met(review))
        promise.refresh_from_db()
        return promise
