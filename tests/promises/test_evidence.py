"""Feasibility evidence on a small dataset whose right answers are stated here: the distribution,
the share that met a target, the < 5 case, on PostgreSQL (percentile_cont) and on the fallback
that databases without it use (the same data, through the same selector)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ValidationFailed
from promises import evidence
from promises import services as ps
from tests.api.conftest import token_client
from tests.factories import CategoryFactory, CustomerFactory, GatePlanFactory, catalogue_metric

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 6, 1, 12, 0, tzinfo=dt.UTC)
# Response times (h) of ten promises verified in the last year; sorted 2 3 3 4 4 5 6 8 9 12.
RESPONSE_TIMES = ["4", "2", "9", "3", "12", "5", "4", "8", "3", "6"]
RESPONSE_TIME_ANSWERS = {"count": 10, "sufficient": True, "median": Decimal("4.5"), "p80": Decimal("8.2"),
                         "p95": Decimal("10.65"), "worst": Decimal("12")}
# Availabilities (%) of five promises: higher is better, so p80 is the level 80 % reached.
AVAILABILITIES = ["97", "90", "99", "95", "98"]
AVAILABILITY_ANSWERS = {"count": 5, "sufficient": True, "median": Decimal("97"), "p80": Decimal("94"),
                        "p95": Decimal("91"), "worst": Decimal("90")}


@pytest.fixture
def hotline(db):
    """A category whose plan has no gates: promises go from draft to verified through the services alone."""
    category = CategoryFactory(name="Hotline", slug="hotline")
    GatePlanFactory(category=category)
    return category


@pytest.fixture
def verified(seller, hotline):
    customer = CustomerFactory()

    def make(metric, actual: str, *, days_ago: int = 10, category=None, comparison: str = "lte", now=NOW):
        at = now - dt.timedelta(days=days_ago)
        promise = ps.promise_create(user=seller, title="Hotline promise", category=category or hotline,
                                    customer=customer, origin_department="sales", channel="contract", metric=metric,
                                    comparison=comparison, target_value=Decimal("4"), due_date=at.date(),
                                    now=at - dt.timedelta(days=5))
        for service in (ps.promise_submit, ps.promise_commit, ps.promise_handover):
            service(promise_id=promise.pk, user=seller, now=at - dt.timedelta(days=1))
        return ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal(actual),
                                 reason="as measured", now=at)

    return make


@pytest.fixture
def dataset(verified, hotline):
    """Ten response times and five availabilities in the window, and promises that must not count:
    verified before the window, or in another category."""
    response_time = catalogue_metric(hotline, "response time")
    availability = catalogue_metric(hotline, "availability")
    for days_ago, actual in enumerate(RESPONSE_TIMES, start=1):
        verified(response_time, actual, days_ago=days_ago * 20)
    for actual in AVAILABILITIES:
        verified(availability, actual, comparison="gte")
    verified(response_time, "100", days_ago=400)
    elsewhere = CategoryFactory(name="Elsewhere", slug="elsewhere")
    GatePlanFactory(category=elsewhere)
    verified(catalogue_metric(elsewhere, "response time"), "100", category=elsewhere)
    return {"response_time": response_time, "availability": availability}


def _figures(result: dict) -> dict:
    return {name: result[name] for name in ("count", "sufficient", "median", "p80", "p95", "worst")}


@pytest.mark.postgres
def test_the_distribution_and_the_met_share_computed_by_percentile_cont(dataset, hotline,
                                                                        django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        result = evidence.metric_evidence(category=hotline, metric=dataset["response_time"],
                                          target=Decimal("4"), now=NOW)
    assert _figures(result) == RESPONSE_TIME_ANSWERS
    assert (result["met"], result["met_share"]) == (5, Decimal("0.500"))   # 2 3 3 4 4 within 4 h
    higher = evidence.metric_evidence(category=hotline, metric=dataset["availability"], target=Decimal("97"),
                                      now=NOW)
    assert _figures(higher) == AVAILABILITY_ANSWERS
    assert (higher["met"], higher["met_share"]) == (3, Decimal("0.600"))   # 97 98 99 reached 97 %


def test_the_fallback_without_percentile_cont_gives_the_same_answers(dataset, hotline, monkeypatch,
                                                                     django_assert_max_num_queries):
    # Given the database cannot compute percentiles (SQLite): the selector takes the offset queries
    monkeypatch.setattr(evidence, "database_has_percentile_cont", lambda: False)
    with django_assert_max_num_queries(5):
        result = evidence.metric_evidence(category=hotline, metric=dataset["response_time"],
                                          target=Decimal("8"), now=NOW)
    assert _figures(result) == RESPONSE_TIME_ANSWERS
    assert (result["met"], result["met_share"]) == (8, Decimal("0.800"))
    higher = evidence.metric_evidence(category=hotline, metric=dataset["availability"], now=NOW)
    assert _figures(higher) == AVAILABILITY_ANSWERS
    assert higher["met"] is None and higher["target"] is None


def test_the_offsets_function_alone_on_the_same_data(dataset, hotline, django_assert_max_num_queries):
    promises = evidence.comparable_promises(category_id=hotline.pk, metric_id=dataset["availability"].pk,
                                            since=NOW - dt.timedelta(days=365), until=NOW)
    with django_assert_max_num_queries(3):
        assert evidence.percentiles_by_offsets(promises, count=5, descending=True) == {
            "median": Decimal("97"), "p80": Decimal("94"), "p95": Decimal("91")}


def test_fewer_than_five_promises_say_so_instead_of_pretending(verified, hotline):
    lead_time = catalogue_metric(hotline, "lead time")
    for actual in ("3", "4", "5", "6"):
        verified(lead_time, actual)
    result = evidence.metric_evidence(category=hotline, metric=lead_time, target=Decimal("5"), now=NOW)
    assert (result["count"], result["sufficient"], result["minimum"]) == (4, False, 5)
    assert [result[n] for n in ("median", "p80", "p95", "worst", "met", "met_share")] == [None] * 6


def test_the_minimum_is_a_setting(verified, hotline, settings):
    settings.EVIDENCE_MIN_PROMISES = 2
    lead_time = catalogue_metric(hotline, "lead time")
    for actual in ("3", "5"):
        verified(lead_time, actual)
    result = evidence.metric_evidence(category=hotline, metric=lead_time, now=NOW)
    assert (result["sufficient"], result["median"], result["worst"]) == (True, Decimal("4"), Decimal("5"))


def test_a_metric_of_another_category_a_window_in_the_future_and_an_infinite_target_are_refused(hotline):
    other = catalogue_metric(CategoryFactory(name="Migration", slug="migration"), "lead time")
    with pytest.raises(ValidationFailed) as exc:
        evidence.metric_evidence(category=hotline, metric=other, now=NOW)
    assert exc.value.code == "metric_not_in_category"
    mine = catalogue_metric(hotline, "response time")
    with pytest.raises(ValidationFailed) as exc:
        evidence.metric_evidence(category=hotline, metric=mine, until=NOW.date() + dt.timedelta(days=1), now=NOW)
    assert exc.value.code == "window_in_future"
    with pytest.raises(ValidationFailed) as exc:
        evidence.metric_evidence(category=hotline, metric=mine, target=Decimal("Infinity"), now=NOW)
    assert exc.value.code == "target_not_finite"


# --- the category record API ---------------------------------------------------------------------------

def _record(user, category, **params):
    return token_client(user).get(f"/api/categories/{category.pk}/record/", params)


def test_the_record_api_shows_the_evidence_for_a_metric_and_target(seller, hotline, verified):
    response_time = catalogue_metric(hotline, "response time")
    for actual in RESPONSE_TIMES:
        verified(response_time, actual, days_ago=1, now=timezone.now())
    response = _record(seller, hotline, metric=response_time.pk, target="4")
    assert response.status_code == 200, response.content
    shown = response.json()["evidence"]
    assert (shown["count"], shown["sufficient"], shown["median"], shown["p80"], shown["p95"], shown["worst"],
            shown["met"], shown["met_share"]) == (10, True, "4.500", "8.200", "10.650", "12.000", 5, "0.500")
    assert shown["metric"] == {"id": response_time.pk, "name": "response time", "unit": "h", "direction": "lower"}
    assert _record(seller, hotline).json()["evidence"] is None


def test_a_metric_without_data_is_insufficient_not_an_error(seller, hotline):
    response = _record(seller, hotline, metric=catalogue_metric(hotline, "cost").pk, target="100")
    assert response.status_code == 200
    assert (response.json()["evidence"]["count"], response.json()["evidence"]["sufficient"]) == (0, False)


@pytest.mark.parametrize(("params", "code", "field"), [
    ({"metric": "other"}, "metric_not_in_category", "metric"),
    ({"until": "2999-01-01"}, "window_in_future", "until"),
    ({"target": "NaN"}, "invalid", "target"),
    ({"target": "-Infinity"}, "invalid", "target"),
    ({"target": "4", "metric": None}, "invalid", "metric"),
])
def test_bad_evidence_requests_are_400_naming_the_rule(seller, hotline, params, code, field):
    mine = catalogue_metric(hotline, "response time")
    other = catalogue_metric(CategoryFactory(name="Migration", slug="migration"), "lead time")
    query = {"metric": mine.pk, **params}
    if query["metric"] == "other":
        query["metric"] = other.pk
    if query["metric"] is None:
        del query["metric"]
    response = _record(seller, hotline, **query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == code and field in body["fields"], body
