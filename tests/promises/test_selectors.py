"""Reads run a fixed number of queries however many gates, checks, conditions and trail rows there are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from promises import services as ps
from promises.selectors import promise_detail, promise_list
from qualitygates import selectors as gate_selectors
from qualitygates import services as gs
from qualitygates.conditions import ConditionInput
from tests.factories import CustomerFactory, UserFactory, all_checks_met
from tests.gate_flow import decide, decide_go, open_review, submitted

pytestmark = pytest.mark.django_db

# the reader's groups (once per request), promise with its relations, reviews, checks, conditions,
# condition owners, trail
DETAIL_QUERIES = 7


def read_everything(promise) -> list:
    """What a detail page shows: the promise, every gate with its checks and conditions, the whole trail."""
    shown = [promise.title, promise.category.name, promise.customer.name, promise.owner.username,
             promise.gate_plan.name]
    for review in promise.gate_reviews.all():
        shown += [review.name, review.owning_team.name, review.decided_by and review.decided_by.username]
        shown += [(check.text, check.result) for check in review.checks.all()]
        shown += [(c.description, c.owner.username) for c in review.conditions.all()]
    for entry in promise.trail.all():
        shown += [entry.action, entry.actor and entry.actor.username, entry.gate_review and entry.gate_review.name]
    return shown


def busy_promise(make_promise, seller, service_user, legal_user, delivery_user, *, rounds: int):
    """A promise with `rounds` recycled review rounds, conditional goes and a long trail."""
    promise = submitted(make_promise, seller)
    for _ in range(rounds):
        review = open_review(promise)
        due = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review),
                       conditions=[ConditionInput(description="Stock set up", owner=delivery_user, due_at=due)])
        decide(promise, legal_user, "recycle", comment="Another round")
        ps.promise_resubmit(promise_id=promise.pk, user=seller)
    decide_go(promise, service_user)
    return promise


def queries_for_detail(promise_id: int, user) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        shown = read_everything(promise_detail(user=user, promise_id=promise_id))
    return len(ctx.captured_queries), shown


def test_promise_detail_runs_the_same_few_queries_for_a_small_and_a_busy_promise(
        make_promise, seller, service_user, legal_user, delivery_user, django_assert_max_num_queries):
    small = busy_promise(make_promise, seller, service_user, legal_user, delivery_user, rounds=1)
    busy = busy_promise(make_promise, seller, service_user, legal_user, delivery_user, rounds=5)
    assert (small.gate_reviews.count(), busy.gate_reviews.count()) == (8, 24)
    assert busy.trail.count() > 3 * small.trail.count()

    small_queries, _ = queries_for_detail(small.pk, UserFactory(username="reader-1", teams=["sales"]))
    busy_queries, shown = queries_for_detail(busy.pk, UserFactory(username="reader-2", teams=["sales"]))

    assert small_queries == busy_queries
    reader = UserFactory(username="reader-3", teams=["sales"])
    with django_assert_max_num_queries(DETAIL_QUERIES):
        read_everything(promise_detail(user=reader, promise_id=busy.pk))
    assert ("Stock set up", delivery_user.username) in shown
    assert "send_to_rework" in shown


@pytest.mark.parametrize("unknown", [999_999, "abc", None])
def test_promise_detail_of_an_unknown_promise_is_none(unknown, seller, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert promise_detail(user=seller, promise_id=unknown) is None


def test_promise_list_is_one_query_however_many_promises(make_promise, seller, manager,
                                                        django_assert_max_num_queries):
    marketer = UserFactory(username="marketer", teams=["marketing"])
    for i in range(12):
        make_promise(customer=CustomerFactory(), title=f"Promise {i}")
    make_promise(user=marketer, customer=None, customer_segment="SME", origin_department="marketing",
                 channel="campaign")

    with django_assert_max_num_queries(2):  # the manager's groups, then the list
        rows = [(p.title, p.category.name, p.customer and p.customer.name, p.owner.username)
                for p in promise_list(user=manager)]

    assert len(rows) == 13
    assert ("Technician on site within 4 hours", "On-site service", None, "marketer") in rows


def test_promise_list_filters_by_state_and_category(make_promise, seller, category, django_assert_max_num_queries):
    draft = make_promise()
    in_review = submitted(make_promise, seller)

    with django_assert_max_num_queries(3):
        assert list(promise_list(user=seller, state="draft")) == [draft]
        assert set(promise_list(user=seller, category_id=category.pk)) == {draft, in_review}


def test_gate_lists_for_a_team_member_are_bounded(
        make_promise, seller, service_user, legal_user, django_assert_max_num_queries):
    for _ in range(5):
        submitted(make_promise, seller)
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)

    with django_assert_max_num_queries(1):
        mine = [(r.name, r.promise.title, r.promise.owner.username, r.promise.category.name, r.owning_team.name)
                for r in gate_selectors.gate_review_list_for_user(user=service_user, states=["open"])]
    assert len(mine) == 5

    review = open_review(promise)
    with django_assert_max_num_queries(4):  # the reader's groups, the review, its checks and conditions
        detail = gate_selectors.gate_review_detail(user=legal_user, review_id=review.pk)
        shown = [detail.name, detail.promise.title, detail.owning_team.name,
                 [c.text for c in detail.checks.all()], [c.description for c in detail.conditions.all()]]
    assert shown[0] == "Legal check"
    assert shown[3] == ["Legal check: capacity confirmed", "Legal check: documented"]
