"""Feedback from any channel, the automatic broken-promise outcome, and the customer's own rating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from feedback.error_codes import FeedbackErrorCode
from feedback.models import Feedback, FeedbackChannel, FeedbackKind, FeedbackSource, Severity
from feedback.services import intake as fs
from notifications.models import EventKind, OutboxEvent
from promises import services as ps
from promises.models import PromiseState
from tests.factories import CustomerFactory, UserFactory


def test_feedback_on_a_category_and_customer(service_user, category, customer):
    item = fs.feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.PHONE,
                              severity=Severity.HIGH, category=category, customer=customer, csat_score=2,
                              text="Nobody came on Friday.")
    assert (item.category, item.customer, item.csat_score, item.source) == (category, customer, 2, "manual")
    event = OutboxEvent.objects.get(kind=EventKind.FEEDBACK_RECEIVED)
    assert event.payload == {"feedback": item.pk, "kind": "complaint", "severity": "high", "category": category.pk,
                             "link": "/dashboard/"}


def test_feedback_on_a_promise_takes_its_category_and_customer(service_user, make_promise):
    promise = make_promise()
    item = fs.feedback_record(user=service_user, kind=FeedbackKind.PRAISE, channel=FeedbackChannel.SOCIAL_MEDIA,
                              promise=promise, nps_score=10, text="Great!")
    assert (item.promise, item.category_id, item.customer_id) == (promise, promise.category_id,
                                                                   promise.customer_id)


@pytest.mark.parametrize(("field", "value"), [
    ("csat_score", 0), ("csat_score", 6), ("nps_score", -1), ("nps_score", 11),
])
def test_scores_out_of_range_are_refused(service_user, category, field, value):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.EMAIL,
                           category=category, text="x", **{field: value})
    assert exc.value.code == FeedbackErrorCode.INVALID_FEEDBACK
    assert field in exc.value.fields
    assert not Feedback.objects.exists()


def test_feedback_needs_promise_or_category_and_text_or_score(service_user):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=FeedbackKind.SUGGESTION, channel=FeedbackChannel.CHAT)
    assert set(exc.value.fields) == {"category", "text"}


def test_broken_promise_feedback_names_the_promise(service_user, category):
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=FeedbackKind.BROKEN_PROMISE, channel=FeedbackChannel.CHAT,
                           category=category, text="late")
    assert set(exc.value.fields) == {"promise"}


def test_feedback_received_in_the_future_is_refused(service_user, category):
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.CHAT,
                           category=category, text="x", received_at=now + dt.timedelta(hours=1), now=now)
    assert set(exc.value.fields) == {"received_at"}
    item = fs.feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.CHAT,
                              category=category, text="x", now=now)
    assert item.received_at == now


def test_feedback_customer_must_match_the_promise(service_user, make_promise):
    promise = make_promise()
    with pytest.raises(ValidationFailed, match="another customer"):
        fs.feedback_record(user=service_user, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.CHAT,
                           promise=promise, customer=CustomerFactory(), text="x")


def test_only_team_members_record_feedback(db, category):
    with pytest.raises(NotAllowed) as exc:
        fs.feedback_record(user=UserFactory(username="nobody"), kind=FeedbackKind.PRAISE,
                           channel=FeedbackChannel.CHAT, category=category, text="x")
    assert exc.value.code == FeedbackErrorCode.NOT_TEAM_MEMBER


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
    assert OutboxEvent.objects.filter(kind=EventKind.FEEDBACK_RECEIVED, subject=f"promise:{promise.pk}").count() == 1


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
    item = fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True,
                                              csat_score=5, text="Punctual.")
    assert (item.kind, item.channel, item.source, item.kept_as_seen, item.csat_score) == (
        "praise", "status_page", "customer", True, 5)
    with pytest.raises(Conflict, match="already been rated") as exc:
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=False, csat_score=1)
    assert exc.value.code == FeedbackErrorCode.ALREADY_RATED
    assert Feedback.objects.filter(promise=promise).count() == 1


def test_a_customer_who_saw_it_broken_files_a_complaint(outcome):
    promise = outcome(kept=True)
    item = fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=False, csat_score=2)
    assert (item.kind, item.severity) == ("complaint", "high")


def test_rating_before_verification_or_with_bad_input_is_refused(deliver):
    promise = deliver()
    with pytest.raises(IllegalTransition, match="verified") as exc:
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True, csat_score=4)
    assert exc.value.code == FeedbackErrorCode.NOT_VERIFIED
    with pytest.raises(ValidationFailed) as exc:
        fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True, csat_score=9)
    assert set(exc.value.fields) == {"csat_score"}
    with pytest.raises(NotFound):
        fs.feedback_record_customer_rating(status_token="nope", kept_as_seen=True, csat_score=4)
    assert not Feedback.objects.exists()



def test_the_rules_speak_german(service_user, category):
    from django.utils import translation

    with translation.override("de"), pytest.raises(ValidationFailed) as exc:
        fs.feedback_record(user=service_user, kind=FeedbackKind.SUGGESTION, channel=FeedbackChannel.CHAT,
                           category=category)
    assert exc.value.fields == {"text": "Feedback braucht einen Text oder eine Bewertung."}
    assert exc.value.message.startswith("Das Feedback ist nicht gültig")
