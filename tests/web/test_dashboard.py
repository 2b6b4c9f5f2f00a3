"""The managers' dashboard: managers only, charts drawn on the server from the data, a validated
filter, and a fixed number of queries whatever the data size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackChannel, FeedbackKind
from feedback.services.intake import feedback_record
from tests.factories import CategoryFactory, build_standard_plan, catalogue_metric
from tests.gate_flow import clock  # noqa: F401  (fixture)
from tests.web.kvp_support import deliver, outcome  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
URL = reverse("web:dashboard")


def _record_feedback(user, category, *, n: int = 1, csat: int | None = 4, nps: int | None = 9):
    for _ in range(n):
        feedback_record(user=user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.PHONE, category=category,
                        csat_score=csat, nps_score=nps, text="Waited too long")


@pytest.mark.parametrize("who", ["seller", "service_user"])
def test_only_managers_open_the_dashboard_others_get_a_readable_403(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 403
    body = response.content.decode()
    assert "The dashboard is for managers." in body and 'class="site-header"' in body


def test_the_manager_sees_the_keep_rate_and_feedback_as_svg_charts_with_table_fallback(
        client, manager, service_user, category, outcome):  # noqa: F811
    # given one kept and one broken promise, and a complaint with scores
    outcome(kept=True)
    outcome(kept=False)
    _record_feedback(service_user, category)
    client.force_login(manager)
    # when the manager opens the dashboard
    body = client.get(URL).content.decode()
    # then the charts are inline SVG images with a label, tooltips and a table of the same figures
    assert body.count('<svg class="chart" role="img"') >= 4
    assert 'aria-label="Keep rate by month and category"' in body
    assert "All categories" in body and "On-site service" in body
    assert "50 %" in body  # one of two verified promises kept
    assert "<details>" in body and "Figures as a table" in body
    assert "<title>Phone · Complaint: 1</title>" in body
    # and each chart links to the list behind it
    assert f"{reverse('web:promise-list')}?category={category.pk}" in body
    assert f"{reverse('web:gate-queue')}?team=" in body
    assert "channel__exact=phone" in body


def test_without_data_the_charts_say_so_instead_of_drawing_nothing(client, manager):
    client.force_login(manager)
    body = client.get(URL).content.decode()
    assert "No data in this range." in body and "No gate is overdue." in body


def test_an_overdue_gate_is_listed_with_how_long_it_is_overdue(client, clock, manager, make_promise, seller):  # noqa: F811
    # given a submitted promise whose first gate is not decided in time
    from promises import services as ps
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    clock.advance(days=10)
    client.force_login(manager)
    # when the manager opens the dashboard
    body = client.get(URL).content.decode()
    # then the gate is listed, linked to its promise and its team's queue
    assert reverse("web:promise-detail", args=[promise.pk]) in body
    assert "Technician on site within 4 hours" in body
    assert "No gate is overdue." not in body
    assert f"{reverse('web:gate-queue')}?team=" in body


@pytest.mark.parametrize("params, field, message", [
    ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "date_to", "must not lie before its start"),
    ({"date_from": "2026-13-45"}, "date_from", "Enter a valid date."),
    ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "date_from", "at most three years"),
    ({"category": "999999"}, "category", "Select a valid choice."),
])
def test_a_bad_filter_is_a_form_error_next_to_its_field_not_a_500(client, manager, params, field, message):
    client.force_login(manager)
    response = client.get(URL, params)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body and message in body


def test_the_filter_narrows_the_figures_to_a_category_and_range(client, manager, outcome, category):  # noqa: F811
    other = CategoryFactory(name="Hotline", slug="hotline")
    build_standard_plan(other)
    catalogue_metric(other, "response time")
    outcome(kept=False)
    outcome(kept=True, category=other)
    client.force_login(manager)
    today = timezone.localdate()
    body = client.get(URL, {"category": other.pk, "date_from": (today - dt.timedelta(days=3)).isoformat(),
                            "date_to": today.isoformat()}).content.decode()
    assert "100 %" in body and "Hotline" in body
    assert f"?category={category.pk}" not in body
    # a range before anything was verified shows no data
    body = client.get(URL, {"date_from": "2020-01-01", "date_to": "2020-02-01"}).content.decode()
    assert "No data in this range." in body


def test_the_dashboard_runs_the_same_number_of_queries_for_little_and_more_data(
        client, manager, service_user, category, outcome, make_promise, seller, django_assert_max_num_queries):  # noqa: F811
    from promises import services as ps
    client.force_login(manager)
    outcome(kept=True)
    _record_feedback(service_user, category)
    client.get(URL)  # warm the session and the role caches
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    # more promises, gates, feedback, categories and teams
    for i in range(3):
        other = CategoryFactory(name=f"Category {i}", slug=f"category-{i}")
        build_standard_plan(other)
        catalogue_metric(other, "response time")
        outcome(kept=False, category=other)
        outcome(kept=True, category=other)
        _record_feedback(service_user, other, n=2, csat=2, nps=3)
    for _ in range(3):
        ps.promise_submit(promise_id=make_promise().pk, user=seller)
    with django_assert_max_num_queries(len(small)):
        body = client.get(URL).content.decode()
    assert "Category 2" in body
    # the series read summary rows and the raw rows of the range's edges: a query or two each
    assert len(small) <= 24


def test_the_dashboard_speaks_german(client, manager, outcome):  # noqa: F811
    outcome(kept=True)
    client.force_login(manager)
    client.cookies["django_language"] = "de"
    body = client.get(URL).content.decode()
    assert "Einhaltungsquote nach Monat" in body and "Wo Leistungsversprechen warten" in body
    assert "Alle Kategorien" in body and "100 %" in body
