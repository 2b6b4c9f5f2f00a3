"""GET /metrics: Prometheus text with the request counters and the product's figures read from the
database at scrape time, in a bounded number of queries, for allowed addresses or the token only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from notifications import delivery
from notifications import services as notifications
from notifications.models import Delivery, DeliveryState, OutboxEvent
from promises import services as promises
from qualitygates import services as gates
from qualitygates.models import Decision, GateReview, ReviewState
from tests.factories import all_checks_met

pytestmark = pytest.mark.django_db


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


@pytest.fixture
def activity(make_promise, seller, service_user, legal_user):
    """Two submitted promises: one gate decided go (legal's gate opens), one gate overdue; their
    notices fanned out, and one e-mail of them sent."""
    decided = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    review = decided.gate_reviews.get(state=ReviewState.OPEN)
    gates.gate_decide(review_id=review.pk, user=service_user, decision=Decision.GO, checks=all_checks_met(review))
    waiting = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    # the second promise's gate has waited past its due time (a shift of the clock, not of its state)
    GateReview.objects.filter(promise=waiting, state=ReviewState.OPEN).update(
        due_at=timezone.now() - dt.timedelta(hours=3))
    for event in OutboxEvent.objects.order_by("pk"):  # fan out until there is an e-mail to send
        notifications.event_fan_out(event_id=event.pk)
        email = Delivery.objects.filter(channel="email", state=DeliveryState.PENDING).first()
        if email:
            break
    delivery.delivery_send(delivery_id=email.pk)
    OutboxEvent.objects.filter(fanned_out_at__isnull=True).update(created_at=timezone.now() - dt.timedelta(minutes=5))


def test_metrics_show_the_products_figures_from_the_database(activity, django_assert_max_num_queries):
    # when Prometheus scrapes
    with django_assert_max_num_queries(4):
        samples = scrape()
    # then the figures match the database
    assert samples[("sqg_gate_decisions_total", (("result", "go"),))] == 1
    assert samples[("sqg_gate_decisions_total", (("result", "kill"),))] == 0
    assert samples[("sqg_gates_overdue", ())] == 1
    waiting_events = OutboxEvent.objects.filter(fanned_out_at__isnull=True).count()
    assert waiting_events >= 2
    assert samples[("sqg_outbox_backlog", (("kind", "event"),))] == waiting_events
    assert samples[("sqg_outbox_backlog", (("kind", "delivery"),))] == Delivery.objects.filter(
        state__in=["pending", "sending"]).count()
    assert 290 < samples[("sqg_outbox_oldest_pending_age_seconds", (("kind", "event"),))] < 400
    assert samples[("sqg_deliveries", (("channel", "email"), ("state", "sent")))] == 1
    assert samples[("sqg_deliveries", (("channel", "inbox"), ("state", "sent")))] >= 1


def test_requests_are_counted_by_method_and_status_and_timed():
    client = Client()
    before = scrape(client)
    client.get("/health/")
    client.post("/api/promises/", data="{}", content_type="application/json")
    client.generic("BREW", "/health/")
    after = scrape(client)

    def grew(name, labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("sqg_http_requests_total", {"method": "GET", "status": "200"}) >= 2  # /health/ and a scrape
    assert grew("sqg_http_requests_total", {"method": "POST", "status": "401"}) == 1
    assert grew("sqg_http_requests_total", {"method": "other", "status": "405"}) == 1
    assert grew("sqg_http_request_duration_seconds_count", {"method": "POST"}) == 1


def test_the_query_count_does_not_grow_with_the_data(activity, make_promise, seller,
                                                    django_assert_max_num_queries):
    for _ in range(5):
        promises.promise_submit(promise_id=make_promise().pk, user=seller)
    with django_assert_max_num_queries(4):
        scrape()


@override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"], METRICS_TOKEN="s3cret-scraper")
@pytest.mark.parametrize(("address", "authorization", "status"), [
    ("10.20.30.40", None, 200),
    ("127.0.0.1", None, 404),
    ("192.168.1.5", "Bearer s3cret-scraper", 200),
    ("192.168.1.5", "Bearer wrong", 404),
    ("192.168.1.5", None, 404),
])
def test_only_allowed_addresses_or_the_token_see_the_metrics(address, authorization, status):
    headers = {"REMOTE_ADDR": address}
    if authorization:
        headers["HTTP_AUTHORIZATION"] = authorization
    assert Client().get("/metrics", **headers).status_code == status
