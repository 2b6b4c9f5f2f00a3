"""Feedback intake: staff record what a customer said, linked to a promise they find by search;
the service's rules (scores, a promise or a category) answer next to their fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import Feedback, FeedbackSource
from promises import services as ps
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("web:feedback-new")
SEARCH = reverse("web:feedback-promise-search")


@pytest.fixture
def submitted_promise(make_promise, seller):
    promise = make_promise(title="Hotline answers within 2 minutes", crm_reference="CRM-4711")
    return ps.promise_submit(promise_id=promise.pk, user=seller)


def _data(**overrides) -> dict:
    data = {"channel": "phone", "kind": "complaint", "severity": "high", "text": "Nobody called back"}
    data.update(overrides)
    return data


def test_a_gatekeeper_records_feedback_linked_to_a_promise_and_lands_on_it(client, service_user, submitted_promise):
    client.force_login(service_user)
    response = client.post(URL, _data(promise=submitted_promise.pk, csat_score="2", nps_score="3"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:promise-detail", args=[submitted_promise.pk])
    item = Feedback.objects.get()
    assert (item.promise_id, item.category_id, item.csat_score, item.nps_score, item.recorded_by, item.source) == (
        submitted_promise.pk, submitted_promise.category_id, 2, 3, service_user, FeedbackSource.MANUAL)


def test_feedback_without_a_promise_needs_a_category_said_next_to_the_field(client, service_user, category):
    client.force_login(service_user)
    response = client.post(URL, _data())
    assert response.status_code == 400
    assert 'id="id_category_error"' in response.content.decode()
    response = client.post(URL, _data(category=category.pk))
    assert response.status_code == 302 and response["Location"] == URL
    assert Feedback.objects.get().category == category
    assert "Feedback recorded: Complaint via Phone." in client.get(URL).content.decode()


@pytest.mark.parametrize("field, value, message", [
    ("csat_score", "6", "The CSAT score is a whole number from 1 to 5."),
    ("csat_score", "0", "The CSAT score is a whole number from 1 to 5."),
    ("nps_score", "11", "The NPS score is a whole number from 0 to 10."),
    ("nps_score", "-1", "The NPS score is a whole number from 0 to 10."),
])
def test_a_bad_score_is_refused_with_the_message_next_to_its_field(client, service_user, category, field, value,
                                                                   message):
    client.force_login(service_user)
    response = client.post(URL, _data(category=category.pk, **{field: value}))
    assert response.status_code == 400
    body = response.content.decode()
    error_at = body.index(f'id="id_{field}_error"')
    assert message in body[error_at:error_at + 300]
    assert not Feedback.objects.exists()


def test_a_promise_outside_the_readers_scope_cannot_be_linked(client, legal_user, make_promise, category):
    # a draft is its owner's alone
    draft = make_promise(title="Secret draft")
    client.force_login(legal_user)
    response = client.post(URL, _data(promise=draft.pk, category=category.pk))
    assert response.status_code == 400 and 'id="id_promise_error"' in response.content.decode()
    assert not Feedback.objects.exists()


def test_the_search_fragment_lists_only_visible_promises_to_pick(client, service_user, submitted_promise,
                                                                 make_promise, django_assert_max_num_queries):
    make_promise(title="Hotline draft nobody else sees")
    client.force_login(service_user)
    with django_assert_max_num_queries(8):
        body = client.get(SEARCH, {"q": "hotline"}).content.decode()
    assert f'name="promise" value="{submitted_promise.pk}"' in body
    assert "Hotline draft nobody else sees" not in body
    assert f'value="{submitted_promise.pk}"' in client.get(SEARCH, {"q": "crm-47"}).content.decode()
    assert "Type at least two characters." in client.get(SEARCH, {"q": "h"}).content.decode()
    assert "No promise you may see matches" in client.get(SEARCH, {"q": "zzz"}).content.decode()


def test_the_page_offers_the_search_and_preselects_a_promise_given_in_the_url(client, service_user,
                                                                              submitted_promise):
    client.force_login(service_user)
    body = client.get(URL, {"promise": submitted_promise.pk}).content.decode()
    assert f'hx-get="{SEARCH}"' in body
    assert f'value="{submitted_promise.pk}" id="promise-picked" checked' in body
    assert 'for="id_csat_score"' in body and 'type="date" name="received_at"' in body


def test_a_user_in_no_team_gets_403_and_a_promise_maker_may_record(client, seller, category):
    client.force_login(UserFactory(username="loner"))
    assert client.get(URL).status_code == 403
    assert client.get(SEARCH, {"q": "ho"}).status_code == 403
    client.force_login(seller)
    assert client.get(URL).status_code == 200


def test_the_intake_speaks_german(client, service_user, category):
    client.force_login(service_user)
    client.cookies["django_language"] = "de"
    response = client.post(URL, _data(category=category.pk, csat_score="9"))
    body = response.content.decode()
    assert "Feedback erfassen" in body
    assert "Der CSAT-Wert ist eine ganze Zahl von 1 bis 5." in body


def test_a_date_received_in_the_future_is_refused_next_to_its_field(client, service_user, category):
    client.force_login(service_user)
    response = client.post(URL, _data(category=category.pk, received_at="2999-01-01"))
    assert response.status_code == 400
    body = response.content.decode()
    error_at = body.index('id="id_received_at_error"')
    assert "cannot have been received in the future" in body[error_at:error_at + 300]
