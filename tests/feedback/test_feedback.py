"""Feedback from any channel, the automatic broken-promise outcome, and the customer's own rating."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from feedback import services as fs
from feedback.models import Feedback, FeedbackKind, FeedbackSource
from notifications.models import EventKind, OutboxEvent
from promises import services as ps
from promises.models import PromiseState
from tests.factories import CustomerFactory, UserFactory


def test_feedback_on_a_category_and_customer(service_user, category, customer):
    item = fs.feedback_record(user=service_user, kind="complaint", channel="phone", severity="high",
                              category_id=category.pk, customer_id=customer.pk, csat_score="2",
                              text="Nobody came on Friday.")
    assert (item.category, item.customer, item.csat_score, item.source) == (category, customer, 2, "manual")
    event = OutboxEvent.objects.get(kind=EventKind.FEEDBACK_RECEIVED)
    assert event.payload == {"feedback": item.pk, "kind": "complaint", "severity": "high", "category": category.pk}


def test_feedback_on_a_promise_takes_its_category_and_customer(service_user, make_promise):
    promise = make_promise()
    item = fs.feedback_record(user=service_user, kind="praise", channel="social_media", promise_id=promise.pk,
                              nps_score=10, text="Great!")
    assert (item.promise, item.category_id, item.customer_id) == (promise, promise.category_id,
                                                                   promise.customer_id)


@pytest.mark.parametrize(("field", "value"), [
    ("csat_score", 0), ("csat_score", 6), ("csat_score", "4.5"), ("csat_score", "four"), ("csat_score", True),
    ("nps_score", -1), ("nps_score", 11), ("nps_score", "NaN"),
])
def test_scores_out_of_range_are_refused(service_user, category, field, value):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind="complaint", channel="email", category_id=category.pk,
                           text="x", **{field: value})
    assert field in exc.value.fields
    assert not Feedback.objects.exists()


def test_unknown_category_kind_or_channel_are_refused(service_user):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind="rant", channel="pigeon", category_id=987654, text="x")
    assert set(exc.value.fields) == {"kind", "channel", "category"}
    assert "Category 987654 does not exist" in exc.value.fields["category"]


def test_feedback_needs_promise_or_category_and_text_or_score(service_user):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind="suggestion", channel="chat")
    assert set(exc.value.fields) == {"category", "text"}


def test_feedback_customer_must_match_the_promise(service_user, make_promise):
    promise = make_promise()
    with pytest.raises(ValidationFailed, match="another customer"):
        fs.feedback_record(user=service_user, kind="complaint", channel="chat", promise_id=promise.pk,
                           customer_id=CustomerFactory().pk, text="x")


def test_only_team_members_record_feedback(db, category):
    with pytest.raises(NotAllowed):
        fs.feedback_record(user=UserFactory(username="nobody"), kind="praise", channel="chat",
                           category_id=category.pk, text="x")


# --- the automatic outcome of a broken promise -------------------------------------------------

def test_a_broken_promise_records_its_outcome_as_feedback(outcome, seller):
    promise = outcome(kept=False, reason="technician ill, no stand-in")
    assert promise.state == PromiseState.BROKEN
    item = Feedback.objects.get(promise=promise)
    assert item.kind == FeedbackKind.BROKEN_PROMISE and item.source == FeedbackSource.AUTOMATIC
    assert item.promised_value == "response time ≤ 4 h"
    assert item.actual_value == Decimal("6") and item.reason == "technician ill, no stand-in"
    assert (item.category_id, item.customer_id, item.recorded_by) == (promise.category_id, promise.customer_id,
                                                                      seller)
    assert OutboxEvent.objects.filter(kind=EventKind.FEEDBACK_RECEIVED, promise=promise).count() == 1


def test_a_kept_promise_records_no_broken_feedback(outcome):
    promise = outcome(kept=True)
    assert promise.state == PromiseState.FULFILLED
    assert not Feedback.objects.filter(promise=promise).exists()


def test_a_refused_verification_leaves_no_feedback(deliver, seller):
    promise = deliver()
    with pytest.raises(ValidationFailed, match="reason"):
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("6"), reason="  ")
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_DELIVERY
    assert not Feedback.objects.exists()


# --- the customer's own rating from the status page ------------------------------------------

def test_the_customer_rates_a_verified_promise_once(outcome):
    promise = outcome(kept=True)
    item = fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen="yes",
                                              csat_score="5", text="Punctual.")
    assert (item.kind, item.channel, item.source, item.kept_as_seen, item.csat_score) == (
        "praise", "status_page", "customer", True, 5)
    with pytest.raises(Conflict, match="already been rated"):
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=False, csat_score=1)
    assert Feedback.objects.filter(promise=promise).count() == 1


def test_a_customer_who_saw_it_broken_files_a_complaint(outcome):
    promise = outcome(kept=True)
    item = fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen="no", csat_score=2)
    assert (item.kind, item.severity) == ("complaint", "high")


def test_rating_before_verification_or_with_bad_input_is_refused(deliver):
    promise = deliver()
    with pytest.raises(IllegalTransition, match="verified"):
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True, csat_score=4)
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen="maybe", csat_score=9)
    assert set(exc.value.fields) == {"kept_as_seen", "csat_score"}
    with pytest.raises(NotFound):
        fs.feedback_record_customer_rating(status_token="nope", kept_as_seen=True, csat_score=4)
    assert not Feedback.objects.exists()


def test_bad_ids_name_the_problem(service_user):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind="complaint", channel="chat", promise_id="abc",
                           category_id="x", customer_id=-1, text="x")
    assert set(exc.value.fields) == {"promise", "category", "customer"}


def test_values_of_the_wrong_type_are_refused_not_a_crash(service_user, category):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=3, channel=["phone"], severity={}, category_id=category.pk,
                           text=None, csat_score=[1])
    assert {"kind", "channel", "severity", "csat_score"} <= set(exc.value.fields)
