"""The promise pages: the list in the reader's scope, the new-promise form with its live panels, the
promise page with its actions and timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import roles
from feedback.services.guidance import guidance_publish
from promises import services as ps
from promises.models import PromiseState, ServicePromise
from tests.factories import CategoryFactory, UserFactory, catalogue_metric
from tests.gate_flow import approved, decide, in_delivery, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", teams=[roles.MARKETING])


@pytest.fixture
def seller2(db):
    return UserFactory(username="seller2", teams=[roles.SALES])


def list_page(client, **params):
    return client.get(reverse("web:promise-list"), params).content.decode()


def new_promise_data(category, metric, customer, **overrides):
    data = {"title": "Technician on site within 4 hours", "category": category.pk, "customer": customer.pk,
            "origin_department": "sales", "channel": "contract", "metric": metric.pk, "comparison": "lte",
            "target_value": "4", "due_date": "2027-03-31", "submit": "1"}
    data.update(overrides)
    return data


# --- the list -------------------------------------------------------------------------------------

def test_a_maker_sees_own_promises_and_submitted_ones_of_the_department_only(
        client, seller, seller2, marketer, make_promise):
    # given my draft, a colleague's draft and submitted promise, and marketing's submitted promise
    make_promise(title="My own draft")
    make_promise(user=seller2, title="Colleague's draft")
    submitted(make_promise, seller2, user=seller2, title="Colleague's submitted")
    submitted(make_promise, marketer, user=marketer, origin_department="marketing", title="Marketing's submitted")
    client.force_login(seller)
    # when I open the list
    body = list_page(client)
    # then I see mine and my department's submitted one, not the colleague's draft nor marketing's
    assert "My own draft" in body and "Colleague&#x27;s submitted" in body
    assert "Colleague&#x27;s draft" not in body and "Marketing&#x27;s submitted" not in body


def test_the_filters_narrow_the_list(client, seller, seller2, make_promise, category):
    other = CategoryFactory(name="Hotline", slug="hotline")
    catalogue_metric(other, "answer time")
    make_promise(title="Overdue draft", due_date=dt.date(2020, 1, 1))
    make_promise(title="Hotline draft", category=other, metric=catalogue_metric(other, "answer time"),
                 crm_reference="CRM-4711")
    submitted(make_promise, seller2, user=seller2, title="Colleague's in review")
    client.force_login(seller)

    mine = list_page(client, mine="1")
    assert "Overdue draft" in mine and "Colleague" not in mine
    department = list_page(client, department="1")
    assert "Colleague" in department and "Overdue draft" in department
    by_state = list_page(client, state=PromiseState.IN_REVIEW)
    assert "Colleague" in by_state and "Hotline draft" not in by_state
    by_category = list_page(client, category=other.pk)
    assert "Hotline draft" in by_category and "Overdue draft" not in by_category
    overdue = list_page(client, due="overdue")
    assert "Overdue draft" in overdue and "Hotline draft" not in overdue
    searched = list_page(client, q="crm-4711")
    assert "Hotline draft" in searched and "Overdue draft" not in searched
    by_title = list_page(client, sort="title")
    assert by_title.index("Colleague") < by_title.index("Hotline draft") < by_title.index("Overdue draft")
    # a nonsense filter value is dropped, not a 500
    assert client.get(reverse("web:promise-list"), {"state": "x" * 500, "category": "abc", "page": "-9"}).status_code == 200


def test_the_list_pages_without_counting_and_runs_the_same_queries_for_5_and_50_promises(
        client, seller, make_promise, django_assert_max_num_queries):
    client.force_login(seller)
    counts = []
    for total in (5, 50):
        while ServicePromise.objects.count() < total:
            make_promise(title=f"Promise {ServicePromise.objects.count()}")
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(12):
            body = list_page(client)
        counts.append(len(queries))
        assert not any("COUNT(" in q["sql"] and "promises_servicepromise" in q["sql"] for q in queries.captured_queries)
    assert counts[0] == counts[1]
    # then page 1 offers a next page, and page 2 holds the rest
    assert 'rel="next"' in body
    second = list_page(client, page="2")
    assert second.count('data-label="State"') == 25 and 'rel="next"' not in second


# --- the new-promise form -----------------------------------------------------------------------

def test_the_form_creates_and_submits_with_the_guidance_acknowledged(
        client, seller, manager, category, response_time, customer):
    # given guidance on the category
    [guidance] = guidance_publish(user=manager, category_ids=[category.pk], text="Check the region's rota first.")
    client.force_login(seller)
    # when the seller fills the form, ticks the guidance and submits
    response = client.post(reverse("web:promise-new"), new_promise_data(
        category, response_time, customer, acknowledged_guidance_ids=[guidance.pk], deal_value="12500"))
    # then the promise is created and in review, and the guidance acknowledged
    promise = ServicePromise.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:promise-detail", args=[promise.pk])
    assert promise.state == PromiseState.IN_REVIEW and promise.deal_value == Decimal("12500")
    assert list(promise.guidance_acknowledgements.values_list("guidance_id", flat=True)) == [guidance.pk]


def test_submitting_without_acknowledging_the_guidance_shows_the_error_next_to_it_and_creates_nothing(
        client, seller, manager, category, response_time, customer):
    guidance_publish(user=manager, category_ids=[category.pk], text="Check the region's rota first.")
    client.force_login(seller)
    response = client.post(reverse("web:promise-new"), new_promise_data(category, response_time, customer))
    body = response.content.decode()
    assert response.status_code == 200 and not ServicePromise.objects.exists()
    assert "acknowledge the category" in body and "Check the region&#x27;s rota first." in body


def test_save_as_draft_and_a_refused_submission_keeps_the_draft_and_says_why(
        client, seller, response_time, customer):
    # given a category without a gate plan
    bare = CategoryFactory(name="No plan", slug="no-plan")
    metric = catalogue_metric(bare, "response time")
    client.force_login(seller)
    draft = client.post(reverse("web:promise-new"), new_promise_data(bare, metric, customer, submit="", draft="1"))
    assert draft.status_code == 302 and ServicePromise.objects.get().state == PromiseState.DRAFT
    # when submitting one
    response = client.post(reverse("web:promise-new"), new_promise_data(bare, metric, customer), follow=True)
    # then the draft is saved and the page says why it was not submitted
    assert ServicePromise.objects.filter(state=PromiseState.DRAFT).count() == 2
    assert "not submitted" in response.content.decode() and "has no gate plan" in response.content.decode()


@pytest.mark.parametrize("field, value, message", [
    ("title", "x" * 10_000, "at most 200 characters"),
    ("title", "nul\x00byte", "Null characters are not allowed"),
    ("target_value", "1e400", "Ensure that there are no more than"),
    ("target_value", "NaN", "Enter a number"),
    ("target_value", "9" * 5000, "Enter a number"),
    ("deal_value", "-5", "greater than or equal to 0"),
    ("due_date", "99999-01-01", "Enter a valid date"),
])
def test_hostile_input_is_a_form_error_next_to_its_field_never_a_500(
        client, seller, category, response_time, customer, field, value, message):
    client.force_login(seller)
    response = client.post(reverse("web:promise-new"), new_promise_data(category, response_time, customer,
                                                                        **{field: value}))
    body = response.content.decode()
    assert response.status_code == 200 and not ServicePromise.objects.exists()
    error_at = body.index(message)
    assert body.rindex(f'id="field-{field}"', 0, error_at) > body.rindex('class="field"', 0, error_at) - 30


def test_a_metric_of_another_category_is_refused_next_to_the_metric(client, seller, category, customer):
    other = CategoryFactory(name="Hotline", slug="hotline")
    foreign = catalogue_metric(other, "answer time")
    client.force_login(seller)
    body = client.post(reverse("web:promise-new"), new_promise_data(category, foreign, customer)).content.decode()
    assert not ServicePromise.objects.exists()
    assert body.index("not in the catalogue") > body.index('id="field-metric"')


def test_only_makers_open_the_form(client, service_user):
    client.force_login(service_user)
    assert client.get(reverse("web:promise-new")).status_code == 403
    assert client.get(reverse("web:promise-new-category"), {"category": 1}).status_code == 403


def test_choosing_a_category_shows_its_guidance_record_and_gate_plan(
        client, seller, manager, category, make_promise, service_user, legal_user, delivery_user,
        django_assert_max_num_queries):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("6"), reason="Traffic jam")
    guidance_publish(user=manager, category_ids=[category.pk], text="Check the region's rota first.")
    client.force_login(seller)
    with django_assert_max_num_queries(20):
        body = client.get(reverse("web:promise-new-category"), {"category": category.pk},
                          HTTP_HX_REQUEST="true").content.decode()
    assert "Check the region&#x27;s rota first." in body and 'name="acknowledged_guidance_ids"' in body
    assert "Traffic jam" in body  # top reason for breaking
    assert body.index("Feasibility") < body.index("Legal check") < body.index("Delivery readiness")
    assert 'hx-swap-oob="true"' in body and "response time" in body and "answer time" not in body


def test_typing_a_target_shows_the_evidence_and_the_share_that_met_it(
        client, settings, seller, category, make_promise, service_user, legal_user, delivery_user, response_time):
    settings.EVIDENCE_MIN_PROMISES = 1
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))
    client.force_login(seller)
    url = reverse("web:promise-new-evidence")
    met = client.get(url, {"category": category.pk, "metric": response_time.pk, "target_value": "4"}).content.decode()
    missed = client.get(url, {"category": category.pk, "metric": response_time.pk, "target_value": "2"}).content.decode()
    assert "1 of 1 past promises met a target of 4 h (100 %)" in met
    assert "0 of 1 past promises met a target of 2 h (0 %)" in missed
    hostile = client.get(url, {"category": category.pk, "metric": response_time.pk, "target_value": "1e400"})
    assert hostile.status_code == 200 and "no more than" in hostile.content.decode()


# --- the promise page ---------------------------------------------------------------------------

def test_the_promise_page_puts_the_rework_reason_on_top_and_tells_one_timeline(
        client, seller, make_promise, service_user, django_assert_max_num_queries):
    promise = submitted(make_promise, seller)
    decide(promise, service_user, "recycle", comment="Weekend cover is missing.")
    client.force_login(seller)
    with django_assert_max_num_queries(16):
        body = client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()
    assert body.index("Weekend cover is missing.") < body.index("<h1")
    timeline = body[body.index('id="timeline-heading"'):]
    assert "Draft → In review" in timeline and "Feasibility (Service): Recycle" in timeline
    assert "Promise sent to rework" in timeline  # the notification recorded about it
    assert reverse("web:promise-action", args=[promise.pk, "resubmit"]) in body
    assert reverse("web:promise-action", args=[promise.pk, "commit"]) not in body


def test_the_promise_page_runs_the_same_queries_however_long_its_history(
        client, seller, make_promise, service_user, legal_user):
    client.force_login(seller)
    short = submitted(make_promise, seller)
    long = approved(make_promise, seller, service_user, legal_user)
    counts = []
    for promise in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("web:promise-detail", args=[promise.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_promise_outside_the_scope_is_404_and_a_forced_forbidden_action_403(
        client, seller, marketer, service_user, legal_user, make_promise):
    promise = approved(make_promise, seller, service_user, legal_user)
    client.force_login(marketer)
    assert client.get(reverse("web:promise-detail", args=[promise.pk])).status_code == 404
    assert client.post(reverse("web:promise-action", args=[promise.pk, "commit"])).status_code == 404
    # the service gatekeeper sees it, is not offered Commit and is refused when forcing it
    client.force_login(service_user)
    page = client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()
    assert reverse("web:promise-action", args=[promise.pk, "commit"]) not in page
    assert client.post(reverse("web:promise-action", args=[promise.pk, "commit"])).status_code == 403
    assert ServicePromise.objects.get(pk=promise.pk).state == PromiseState.APPROVED
    assert client.post(reverse("web:promise-action", args=[promise.pk, "nonsense"])).status_code == 404


def test_the_owner_commits_hands_over_and_a_broken_verification_needs_its_reason(
        client, seller, make_promise, service_user, legal_user, delivery_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    client.force_login(seller)
    url = lambda name: reverse("web:promise-action", args=[promise.pk, name])  # noqa: E731
    assert client.post(url("commit"), {"comment": "Signed"}).status_code == 302
    assert client.post(url("handover")).status_code == 302
    assert ServicePromise.objects.get(pk=promise.pk).state == PromiseState.COMMITTED
    from tests.gate_flow import decide_go
    decide_go(promise, delivery_user)
    response = client.post(url("verify"), {"actual_value": "6", "reason": ""})
    body = response.content.decode()
    assert response.status_code == 400 and body.index("needs the reason") > body.index('id="field-reason"')
    assert ServicePromise.objects.get(pk=promise.pk).state == PromiseState.IN_DELIVERY
    assert client.post(url("verify"), {"actual_value": "3"}).status_code == 302
    assert ServicePromise.objects.get(pk=promise.pk).state == PromiseState.FULFILLED


def test_a_german_maker_records_the_delivered_value_with_a_decimal_comma(
        client, seller, make_promise, service_user, legal_user, delivery_user):
    # given a promise in delivery, and its owner reading German
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    client.force_login(seller)
    client.cookies.load({"django_language": "de"})
    page = client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()
    # then the value is typed as text (a number input drops the comma in a browser of another language)
    assert 'name="actual_value" inputmode="decimal"' in page and 'type="number"' not in page
    # when they type 3,5 hours
    response = client.post(reverse("web:promise-action", args=[promise.pk, "verify"]), {"actual_value": "3,5"})
    # then 3.5 is recorded: kept (at most 4 h)
    assert response.status_code == 302
    promise = ServicePromise.objects.get(pk=promise.pk)
    assert (promise.actual_value, promise.state) == (Decimal("3.5"), PromiseState.FULFILLED)


def test_german_pages_show_state_labels_and_numbers_the_german_way(client, seller, make_promise):
    promise = submitted(make_promise, seller, deal_value=Decimal("12500"), target_value=Decimal("4"))
    client.force_login(seller)
    client.cookies.load({"django_language": "de"})
    listing = client.get(reverse("web:promise-list"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    detail = client.get(reverse("web:promise-detail", args=[promise.pk]), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "In Prüfung" in listing and "≤ 4 h" in listing and "4.000" not in listing and "4,000" not in listing
    assert "12.500 €" in detail and "In Prüfung" in detail


def test_the_owner_edits_a_draft_and_submits_it_from_its_page_acknowledging_the_guidance(
        client, seller, manager, make_promise, category, customer, response_time):
    promise = make_promise()
    [guidance] = guidance_publish(user=manager, category_ids=[category.pk], text="Check the region's rota first.")
    client.force_login(seller)
    edit = reverse("web:promise-edit", args=[promise.pk])
    assert 'value="Technician on site within 4 hours"' in client.get(edit).content.decode()
    response = client.post(edit, new_promise_data(category, response_time, customer, title="Within 6 hours",
                                                  target_value="6"))
    assert response.status_code == 302
    promise.refresh_from_db()
    assert (promise.title, promise.target_value) == ("Within 6 hours", Decimal("6"))
    page = client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()
    assert f'name="acknowledged_guidance_ids" value="{guidance.pk}"' in page
    submit = reverse("web:promise-action", args=[promise.pk, "submit"])
    refused = client.post(submit, {})
    assert refused.status_code == 400 and "not acknowledged" in refused.content.decode()
    assert client.post(submit, {"acknowledged_guidance_ids": [guidance.pk]}).status_code == 302
    assert ServicePromise.objects.get(pk=promise.pk).state == PromiseState.IN_REVIEW


def test_only_the_owner_edits_and_only_a_draft_or_a_promise_in_rework(client, seller, seller2, make_promise):
    promise = submitted(make_promise, seller)
    client.force_login(seller)
    assert client.get(reverse("web:promise-edit", args=[promise.pk])).status_code == 403  # in review
    client.force_login(seller2)  # the colleague sees it, may not edit it
    assert client.get(reverse("web:promise-edit", args=[promise.pk])).status_code == 403
    draft = make_promise()
    assert client.get(reverse("web:promise-edit", args=[draft.pk])).status_code == 404  # another's draft


def test_an_absurd_promise_id_is_a_404_not_a_500(client, seller):
    client.force_login(seller)
    huge = "9" * 30
    assert client.get(f"/promises/{huge}/").status_code == 404
    assert client.post(f"/promises/{huge}/commit/").status_code == 404
    assert client.get(f"/promises/{huge}/edit/").status_code == 404


def test_a_gatekeeper_lists_the_promises_of_their_gates_in_bounded_queries(
        client, seller, service_user, make_promise, django_assert_max_num_queries):
    for n in range(3):
        submitted(make_promise, seller, title=f"Submitted {n}")
    make_promise(title="Still a draft")
    client.force_login(service_user)
    with django_assert_max_num_queries(12):
        body = list_page(client)
    assert body.count('data-label="State"') == 3 and "Still a draft" not in body
