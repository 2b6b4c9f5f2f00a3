"""The customer's status page: friendly, honest, in the customer's language, nothing internal, and a
bounded number of queries whatever the promise's history."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import formats, timezone, translation

from feedback.models import Feedback
from promises import clock as promise_clock
from promises import services as ps
from tests.gate_flow import decide, decide_go, in_delivery, open_review, refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # The status page is rate limited per address; each test starts with a fresh allowance.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def delivering(make_promise, seller, service_user, legal_user, delivery_user):
    return in_delivery(make_promise, seller, service_user, legal_user, delivery_user)


def page(client, promise, **query) -> str:
    response = client.get(reverse("promise-status", args=[promise.status_token]), query)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def verified(promise, seller, *, kept: bool):
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3") if kept else Decimal("6"),
                      reason="" if kept else "Technician stuck in traffic, team Nord short of staff")
    return refreshed(promise)


@override_settings(COMPANY_NAME="Muster Service AG", COMPANY_CONTACT_EMAIL="hilfe@muster.example",
                   COMPANY_CONTACT_PHONE="+49 89 555 0100")
def test_the_page_names_the_company_and_how_to_reach_it(client, delivering):
    html = page(client, delivering, lang="en")
    assert "Muster Service AG" in html
    assert 'href="tel:+49895550100"' in html and "Call +49 89 555 0100" in html
    assert 'href="mailto:hilfe@muster.example' in html


def test_what_we_promised_where_it_stands_and_when_we_write_next(client, delivering):
    text = text_of(page(client, delivering, lang="en"))
    assert "In delivery" in text and "We are delivering what we promised." in text
    assert "response time ≤ 4 h" in text  # a target of 4 reads "4", not "4.000"
    assert "March 31, 2027" in text
    # the next update: the category's interim-notice days after the last visible change
    expected = delivering.customer_visible_at + dt.timedelta(days=delivering.category.interim_notice_days)
    with translation.override("en"):
        shown = formats.date_format(timezone.localtime(expected), "DATE_FORMAT")
    assert f"Next update from us at the latest {shown}" in text


def test_the_timeline_shows_each_customer_step_once_and_the_interim_notices(client, delivering):
    # given the promise went quiet long enough for an interim notice
    later = delivering.customer_visible_at + dt.timedelta(days=delivering.category.interim_notice_days + 1)
    assert promise_clock.interim_notices_send(now=later) == 1
    html = page(client, delivering, lang="en")
    timeline = html[html.index('class="timeline status-timeline"'):html.index("</ol>")]
    steps = re.findall(r"<strong>([^<]+)</strong>", timeline)
    # then the customer's labels in order (two gates in review read as one step), the notice and the next update
    assert steps == ["Being confirmed", "Confirmed", "Scheduled", "In delivery", "Interim notice",
                     "Next update from us at the latest"]
    assert "We wrote to you that we are still working on your promise." in timeline


def test_nothing_internal_reaches_the_customer(client, make_promise, seller, service_user, legal_user, delivery_user):
    # given a promise that went through rework with internal comments, and was verified broken with a reason
    promise = make_promise(title="Technician within 4 hours")
    ps.promise_submit(promise_id=promise.pk, user=seller, comment="Internal: discount agreed by Jens")
    decide(promise, service_user, "recycle", comment="Secret: region Nord has no night shift")
    ps.promise_resubmit(promise_id=promise.pk, user=seller, comment="Internal: fixed")
    decide_go(promise, service_user)
    decide_go(promise, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    decide_go(promise, delivery_user)
    promise = verified(promise, seller, kept=False)
    html = page(client, promise, lang="en")
    for internal in ("Jens", "Secret", "Nord", "Internal", "traffic", seller.username, service_user.username,
                     "Feasibility", "Legal check", "Delivery readiness", "legal", "rework", "gate", "recycle"):
        assert internal not in text_of(html), internal


def test_a_broken_promise_says_so_honestly_and_invites_the_rating(client, delivering, seller):
    promise = verified(delivering, seller, kept=False)
    text = text_of(page(client, promise, lang="en"))
    assert "Not kept" in text and "We did not keep our promise as agreed." in text
    assert "Being checked" not in text
    assert "What we measured 6 h" in text
    assert "How did you see it?" in text


def test_a_kept_promise_is_delivered_as_promised(client, delivering, seller):
    promise = verified(delivering, seller, kept=True)
    text = text_of(page(client, promise, lang="en"))
    assert "Delivered as promised" in text and "What we measured 3 h" in text
    assert "Next update from us" not in text


def test_the_page_speaks_german_by_choice_by_the_customer_and_by_the_browser(client, delivering, customer):
    # the factory's customers speak German
    text = text_of(page(client, delivering))
    assert "In Umsetzung" in text and "Was wir Ihnen versprochen haben" in text
    assert "31. März 2027" in text
    assert 'href="?lang=en"' in page(client, delivering)
    # ?lang= wins
    assert "What we promised" in text_of(page(client, delivering, lang="en"))
    # a customer without a known language gets what the browser asks for
    customer.language = ""
    customer.save(update_fields=["language"])
    response = client.get(reverse("promise-status", args=[delivering.status_token]), HTTP_ACCEPT_LANGUAGE="de-DE,de")
    assert "Was wir Ihnen versprochen haben" in response.content.decode()
    response = client.get(reverse("promise-status", args=[delivering.status_token]), HTTP_ACCEPT_LANGUAGE="en")
    assert "What we promised" in response.content.decode()


def test_the_rating_form_shows_its_errors_next_to_the_fields_in_the_customers_language(client, delivering, seller):
    promise = verified(delivering, seller, kept=True)
    rate = reverse("promise-rate", args=[promise.status_token])
    response = client.post(rate + "?lang=de", {"kept_as_seen": "yes", "csat_score": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.findall(r'<p class="field-error" id="id_([a-z_]+)-error">([^<]+)</p>', html)
    assert errors == [("csat_score", "Bitte wählen Sie eine Bewertung von 1 bis 5.")]
    # what was chosen stays chosen
    assert re.search(r'value="yes"[^>]*checked', html)
    assert not Feedback.objects.filter(promise=promise, source="customer").exists()
    # an empty form names both questions
    html = client.post(rate + "?lang=en", {}).content.decode()
    assert [field for field, _ in re.findall(r'id="id_([a-z_]+)-error">([^<]+)<', html)] == [
        "kept_as_seen", "csat_score"]
    # a valid rating is stored and the page thanks in the chosen language
    response = client.post(rate + "?lang=de", {"kept_as_seen": "no", "csat_score": "2", "text": "Zu spät."})
    assert response.status_code == 302 and response["Location"].endswith("?rating=thanks&lang=de#rating")
    rating = Feedback.objects.get(promise=promise, source="customer")
    assert (rating.kept_as_seen, rating.csat_score, rating.text) == (False, 2, "Zu spät.")
    text = text_of(client.get(response["Location"]).content.decode())
    assert "Vielen Dank für Ihre Bewertung." in text and "Ihre Bewertung: 2 von 5." in text


def test_no_rating_form_before_verification(client, delivering):
    assert 'name="csat_score"' not in page(client, delivering)
    response = client.post(reverse("promise-rate", args=[delivering.status_token]),
                           {"kept_as_seen": "yes", "csat_score": "5"})
    assert response.status_code == 400
    assert not Feedback.objects.filter(promise=delivering, source="customer").exists()


def test_the_page_runs_a_bounded_number_of_queries_whatever_the_history(
        client, delivering, seller, django_assert_max_num_queries):
    # given a long history: many interim notices and a verified outcome
    at = delivering.customer_visible_at
    for _ in range(12):
        at += dt.timedelta(days=delivering.category.interim_notice_days + 1)
        promise_clock.interim_notices_send(now=at)
    promise = verified(delivering, seller, kept=True)
    with django_assert_max_num_queries(6):
        html = page(client, promise, lang="en")
    assert html.count("Interim notice") == 12


def test_hold_after_commitment_reads_as_waiting(client, delivering, service_user, seller):
    # the hold of a closure gate: the customer waits for a decision on our side
    promise = verified(delivering, seller, kept=True)
    assert open_review(promise).owning_team.name == "service"
    decide(promise, service_user, "hold")
    text = text_of(page(client, refreshed(promise), lang="en"))
    assert "Waiting for a decision" in text
