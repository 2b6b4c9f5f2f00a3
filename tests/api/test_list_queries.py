"""Every list endpoint runs a bounded number of queries, whatever the page size."""

from __future__ import annotations

import pytest

from promises import services as promises
from tests.factories import CategoryFactory, CustomerFactory

from .scenarios import Scenario

# Token lookup, the reader's groups (their read scope), the scope check of a detail's sub-list,
# COUNT, page: the rest are select_related; nothing per row.
MAX_QUERIES = 5


@pytest.fixture
def scenario(make_promise, seller, service_user, legal_user, delivery_user):
    return Scenario(make_promise, seller, service_user, legal_user, delivery_user)


def _get(client, url, size, django_assert_max_num_queries, max_queries=MAX_QUERIES):
    with django_assert_max_num_queries(max_queries):
        response = client.get(url, {"page_size": size})
    assert response.status_code == 200, response.data
    return response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 40])
def test_promise_list_is_bounded(api, make_promise, seller, size, django_assert_max_num_queries):
    # given 45 promises, most of them submitted (with gates, checks and trail rows behind them)
    for i in range(45):
        promise = make_promise(title=f"Promise {i}")
        if i % 3:
            promises.promise_submit(promise_id=promise.pk, user=seller)
    # when a page is fetched, then the queries do not grow with the page
    body = _get(api("manager"), "/api/promises/", size, django_assert_max_num_queries)
    assert body["count"] == 45 and len(body["results"]) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 40])
def test_gate_list_is_bounded(api, scenario, size, django_assert_max_num_queries):
    # given 25 submitted promises: each has two gates of the service team (feasibility, closure)
    for _ in range(25):
        scenario.in_review()
    body = _get(api("gk_own"), "/api/gates/", size, django_assert_max_num_queries)
    assert body["count"] == 50 and len(body["results"]) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 30])
def test_trail_is_bounded(api, scenario, size, django_assert_max_num_queries):
    # given a promise in delivery: submitted, two gates passed, committed, handed over, delivery gate passed
    promise = scenario.in_delivery()
    body = _get(api("maker"), f"/api/promises/{promise.pk}/trail/", size, django_assert_max_num_queries)
    assert body["count"] >= 10 and len(body["results"]) == min(size, body["count"])


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 40])
def test_customer_and_category_lists_are_bounded(api, size, django_assert_max_num_queries):
    CustomerFactory.create_batch(45)
    CategoryFactory.create_batch(45)
    client = api("maker")
    assert len(_get(client, "/api/customers/", size, django_assert_max_num_queries)["results"]) == size
    assert len(_get(client, "/api/categories/", size, django_assert_max_num_queries)["results"]) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 40])
def test_feedback_and_improvement_lists_are_bounded(api, seller, category, make_promise, size,
                                                    django_assert_max_num_queries):
    from feedback.services.improvements import improvement_propose
    from feedback.services.intake import feedback_record

    promise = make_promise()
    for i in range(45):
        feedback_record(user=seller, kind="complaint", channel="phone", text=f"Late {i}",
                        promise=promise if i % 2 else None, category=category)
        improvement_propose(user=seller, title=f"Improvement {i}", category_ids=[category.pk])
    client = api("manager")
    assert len(_get(client, "/api/feedback/", size, django_assert_max_num_queries)["results"]) == size
    # An improvement shows its targets: two more queries (the targets with their metric, their categories).
    assert len(_get(client, "/api/improvements/", size, django_assert_max_num_queries,
                    MAX_QUERIES + 2)["results"]) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 40])
def test_inbox_and_webhook_lists_are_bounded(api, scenario, seller, size, django_assert_max_num_queries,
                                             django_capture_on_commit_callbacks):
    from notifications import services as notifications
    from notifications.models import OutboxEvent
    from notifications.user_settings import webhook_subscription_create

    # given 45 submitted promises: each tells the service team that its gate opened
    for _ in range(45):
        scenario.in_review()
    with django_capture_on_commit_callbacks(execute=False):
        for event_id in OutboxEvent.objects.values_list("pk", flat=True):
            notifications.event_fan_out(event_id=event_id)
    for i in range(45):
        webhook_subscription_create(user=seller, name=f"Hook {i}", url=f"https://h{i}.example.com/")
    inbox = _get(api("gk_own"), "/api/inbox/", size, django_assert_max_num_queries)
    assert inbox["count"] >= 45 and len(inbox["results"]) == size
    assert len(_get(api("maker"), "/api/webhooks/", size, django_assert_max_num_queries)["results"]) == size
