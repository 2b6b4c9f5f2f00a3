from decimal import Decimal

from promises import services as ps
from promises.models import PromiseState
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import all_checks_met


def open_review(promise):
    return promise.gate_reviews.get(state=ReviewState.OPEN)


def test_happy_path(make_promise, seller, service_user, legal_user, delivery_user):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW
    r = open_review(promise)
    gs.gate_decide(review_id=r.pk, user=service_user, decision="go", checks=all_checks_met(r))
    r = open_review(promise)
    gs.gate_decide(review_id=r.pk, user=legal_user, decision="go", checks=all_checks_met(r))
    promise.refresh_from_db()
    assert promise.state == PromiseState.APPROVED
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    r = open_review(promise)
    gs.gate_decide(review_id=r.pk, user=delivery_user, decision="go", checks=all_checks_met(r))
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_DELIVERY
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3.5"))
    promise.refresh_from_db()
    assert promise.state == PromiseState.FULFILLED
    r = open_review(promise)
    gs.gate_decide(review_id=r.pk, user=service_user, decision="go", checks=all_checks_met(r))
    promise.refresh_from_db()
    assert promise.state == PromiseState.CLOSED
