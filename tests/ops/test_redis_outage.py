"""The API keeps writing while Redis (cache and broker) is down; the notification waits in the outbox
and a real worker delivers it once after Redis returns."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from rest_framework.test import APIClient

from notifications.models import Delivery, DeliveryState, EventKind, OutboxEvent
from promises import services as ps
from qualitygates.models import ReviewState
from tests.ops.conftest import all_delivered, sweep
from tests.outbox_support import thread_worker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_gate_decision_through_the_api_while_redis_is_down_is_delivered_once_after_it_returns(
        production_like, make_promise, seller, service_user, settings):
    redis = production_like
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = promise.gate_reviews.get(state=ReviewState.OPEN)
    # given Redis (the cache with the throttle counters, and the broker) is down
    redis.stop()
    # when the service team decides through the API
    started = time.monotonic()
    response = api_as(service_user).post(f"/api/gates/{review.pk}/decide/",
                                         {"decision": "go", "comment": "Capacity confirmed",
                                          "checks": [{"check": c.pk, "result": "met"}
                                                     for c in review.checks.all()]}, format="json")
    # then the decision commits at once and its notification waits in the outbox
    assert response.status_code == 200, response.content
    assert time.monotonic() - started < 5
    review.refresh_from_db()
    assert review.state == ReviewState.PASSED
    waiting = OutboxEvent.objects.get(kind=EventKind.GATE_DECIDED)
    assert waiting.fanned_out_at is None
    # when Redis returns (empty: what was queued is gone) and beat's sweep runs under a real worker
    redis.start()
    mail.outbox.clear()
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0  # as if the grace period had passed
    with thread_worker():
        assert sweep()["events"] >= 1
        sweep()  # a second beat tick before the worker caught up
        wait_until(all_delivered, what="delivery after Redis returned")
        time.sleep(0.5)  # a duplicate would arrive now
    # then the decision reached its owner exactly once on every channel
    decided = Delivery.objects.filter(event=waiting, recipient=seller)
    assert sorted(decided.values_list("channel", "state")) == [
        ("email", DeliveryState.SENT), ("inbox", DeliveryState.SENT)]
    assert [m.to for m in mail.outbox if "decided" in m.subject] == [[seller.email]]


def test_throttled_reads_fail_open_and_are_counted(production_like, seller):
    from core.cache import cache_failure_counts

    production_like.stop()
    before = sum(cache_failure_counts().values())
    response = api_as(seller).get("/api/promises/")
    assert response.status_code == 200, response.content
    assert sum(cache_failure_counts().values()) > before
