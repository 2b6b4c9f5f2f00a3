"""The metric catalogue in use: managers keep it (services and admin), categories list their metrics,
and a promise states its commitment in the terms of one of its category's metrics."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from core.errors import NotAllowed, ValidationFailed
from promises import metrics as catalogue
from promises import services as ps
from promises.models import Metric, MetricDirection, MetricKind, ServicePromise
from tests.admin_support import make_staff
from tests.api.conftest import token_client
from tests.factories import CategoryFactory, catalogue_metric

pytestmark = pytest.mark.django_db


def _body(category, customer, **overrides) -> dict:
    return {"title": "Technician within 4 h", "category": category.pk, "customer": customer.pk,
            "origin_department": "sales", "channel": "contract", "metric": catalogue_metric(category).pk,
            "comparison": "lte", "target_value": "4", "due_date": "2027-03-31", **overrides}


def _post(user, body):
    return token_client(user).post("/api/promises/", json.dumps(body), content_type="application/json")


# --- the catalogue ----------------------------------------------------------------------------------

def test_a_manager_adds_a_metric_to_categories(manager, category):
    metric = catalogue.metric_create(user=manager, name="first-time fix rate", name_de="Erstlösungsquote",
                                     unit="%", direction=MetricDirection.HIGHER_IS_BETTER,
                                     kind=MetricKind.PERCENTAGE, categories=[category])
    assert list(metric.categories.all()) == [category]
    with translation.override("de"):
        assert str(metric) == "Erstlösungsquote (%)"


def test_only_managers_keep_the_catalogue(seller, category):
    with pytest.raises(NotAllowed) as exc:
        catalogue.metric_create(user=seller, name="x", unit="h", direction=MetricDirection.LOWER_IS_BETTER,
                                kind=MetricKind.WORKING_HOURS)
    assert exc.value.code == "not_manager"
    assert not Metric.objects.filter(name="x").exists()


def test_a_metric_in_use_keeps_its_unit_and_direction_but_may_be_renamed(manager, make_promise, response_time):
    make_promise()
    with pytest.raises(ValidationFailed) as exc:
        catalogue.metric_update(metric_id=response_time.pk, user=manager, name="response time", unit="min",
                                direction=MetricDirection.LOWER_IS_BETTER, kind=MetricKind.WORKING_HOURS,
                                categories=list(response_time.categories.all()))
    assert exc.value.code == "metric_in_use" and "unit" in exc.value.fields
    renamed = catalogue.metric_update(metric_id=response_time.pk, user=manager, name="on-site response time",
                                      name_de="Reaktionszeit vor Ort", unit="h",
                                      direction=MetricDirection.LOWER_IS_BETTER, kind=MetricKind.WORKING_HOURS,
                                      categories=list(response_time.categories.all()))
    assert (renamed.name, renamed.unit) == ("on-site response time", "h")


def test_the_category_api_lists_its_active_metrics_in_the_readers_language(seller, category,
                                                                         django_assert_max_num_queries):
    retired = catalogue_metric(category, "cost")
    Metric.objects.filter(pk=retired.pk).update(is_active=False)
    CategoryFactory(name="Other", slug="other")
    client = token_client(seller)
    with django_assert_max_num_queries(6):
        listed = client.get("/api/categories/", HTTP_ACCEPT_LANGUAGE="en").json()
    on_site = next(c for c in listed["results"] if c["id"] == category.pk)
    assert [(m["name"], m["unit"], m["direction"], m["kind"]) for m in on_site["metrics"]] == [
        ("availability", "%", "higher", "percentage"), ("response time", "h", "lower", "working_hours")]
    german = client.get(f"/api/categories/{category.pk}/", HTTP_ACCEPT_LANGUAGE="de").json()
    assert {m["name"] for m in german["metrics"]} == {"availability (de)", "response time (de)"}


# --- a promise chooses its metric from its category -------------------------------------------------

def test_a_promise_takes_its_metric_by_id_and_shows_name_and_unit(seller, category, customer):
    response = _post(seller, _body(category, customer, unit="h"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["metric"], data["metric_name"], data["unit"]) == (
        Metric.objects.get(name="response time").pk, "response time", "h")
    assert data["commitment"] == "response time ≤ 4 h"


@pytest.mark.parametrize(("overrides", "code", "field"), [
    ({"unit": "min"}, "unit_not_metrics", "unit"),
    ({"comparison": "gte"}, "comparison_against_direction", "comparison"),
    ({"other_category_metric": True}, "metric_not_in_category", "metric"),
])
def test_a_commitment_against_the_catalogue_is_400_naming_the_rule(seller, category, customer, overrides, code,
                                                                 field):
    if overrides.pop("other_category_metric", False):
        overrides["metric"] = catalogue_metric(CategoryFactory(name="Hotline", slug="hotline"), "lead time").pk
    response = _post(seller, _body(category, customer, **overrides))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == code and field in body["fields"]
    assert not ServicePromise.objects.exists()


def test_higher_is_better_takes_at_least_or_exactly(make_promise, category):
    availability = catalogue_metric(category, "availability")
    assert make_promise(metric=availability, comparison="gte", target_value=Decimal("99")).pk
    assert make_promise(metric=availability, comparison="eq", target_value=Decimal("100")).pk
    with pytest.raises(ValidationFailed) as exc:
        make_promise(metric=availability, comparison="lte", target_value=Decimal("99"))
    assert exc.value.code == "comparison_against_direction"


def test_an_edit_moving_the_promise_to_a_category_without_its_metric_is_refused(make_promise, seller):
    promise = make_promise()
    other = CategoryFactory(name="Hotline", slug="hotline")
    with pytest.raises(ValidationFailed) as exc:
        ps.promise_update(promise_id=promise.pk, user=seller, changes=ps.PromiseChanges(category=other))
    assert exc.value.code == "metric_not_in_category"
    promise.refresh_from_db()
    assert promise.category.slug == "on-site-service"


def test_a_retired_metric_is_not_chosen_anew(make_promise, category):
    lead_time = catalogue_metric(category, "lead time")
    Metric.objects.filter(pk=lead_time.pk).update(is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        make_promise(metric=Metric.objects.get(pk=lead_time.pk))
    assert exc.value.code == "metric_inactive"


# --- the admin goes through the services -------------------------------------------------------------

def _metric_form(category, **overrides) -> dict:
    return {"name": "first-time fix rate", "name_de": "Erstlösungsquote", "unit": "%", "direction": "higher",
            "kind": "percentage", "categories": [category.pk], "is_active": "on", **overrides}


def test_a_manager_adds_a_metric_in_the_admin(client, manager, category):
    make_staff(manager, "add_metric", "change_metric", "view_metric")
    client.force_login(manager)
    response = client.post(reverse("admin:promises_metric_add"), _metric_form(category))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Metric.objects.get(name="first-time fix rate").categories.all()) == [category]


def test_the_admin_shows_the_catalogue_rule_and_writes_nothing(client, seller, category):
    # Given a maker who was given the model permission, but is no manager
    make_staff(seller, "add_metric", "view_metric")
    client.force_login(seller)
    response = client.post(reverse("admin:promises_metric_add"), _metric_form(category), follow=True)
    # Then the admin's walls refuse it (the catalogue is a manager's), and the service would too
    assert response.status_code == 403
    assert not Metric.objects.filter(name="first-time fix rate").exists()
