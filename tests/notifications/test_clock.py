"""The clock: reminders at 80 % of a gate's working time, daily escalations, interim notices to
customers, the weekly digest. The clock is moved, not waited for."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from notifications import selectors, services
from notifications.models import Channel, CustomerNotice, Delivery, EventKind, OutboxEvent
from promises import services as ps
from promises.models import PromiseState, ServicePromise
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import all_checks_met

from .conftest import drain

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() as the test says; the services take `now` too."""

    class Clock:
        now = at(2027, 3, 5, 14, 0)  # a Friday afternoon

    monkeypatch.setattr(timezone, "now", lambda: Clock.now)
    return Clock


def open_review(promise):
    return promise.gate_reviews.get(state=ReviewState.OPEN)


def recipients(kind, channel=Channel.EMAIL) -> list[str]:
    return sorted(Delivery.objects.filter(event__kind=kind, channel=channel)
                  .values_list("recipient__username", flat=True))


def test_reminder_fires_at_80_percent_of_working_time(clock, make_promise, seller, service_user,
                                                      django_assert_max_num_queries):
    # given a 16-working-hour gate opened Friday 14:00: 3 h Friday, 9 h Monday, due Tuesday 12:00
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    assert review.due_at == at(2027, 3, 9, 12, 0)
    # Monday 17:00 is 80 % of the wall-clock time, but only 12 of 16 working hours: no reminder
    assert services.gate_reminders_send(now=at(2027, 3, 8, 17, 0)) == 0
    assert services.gate_reminders_send(now=at(2027, 3, 9, 8, 30)) == 0  # 12.5 h < 12.8 h
    # when 12.8 working hours have passed (Tuesday 08:48), then the team is reminded, once
    with django_assert_max_num_queries(3):
        selectors.gate_reviews_open_not_due(now=at(2027, 3, 9, 9, 0))
    assert services.gate_reminders_send(now=at(2027, 3, 9, 9, 0)) == 1
    assert services.gate_reminders_send(now=at(2027, 3, 9, 10, 0)) == 0
    drain()
    assert recipients(EventKind.GATE_DUE_SOON) == ["servicer"]
    assert OutboxEvent.objects.get(kind=EventKind.GATE_DUE_SOON).payload["remaining_hours"] == 3.0


def test_overdue_gate_escalates_to_managers_daily(clock, make_promise, seller, service_user, manager):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)  # due Tuesday 12:00
    assert services.gate_escalations_send(now=at(2027, 3, 9, 11, 59)) == 0
    # when it is overdue, the managers get an escalation and the team an overdue notice
    assert services.gate_escalations_send(now=at(2027, 3, 9, 12, 1)) == 1
    assert services.gate_escalations_send(now=at(2027, 3, 9, 20, 0)) == 0  # same day: nothing new
    drain()
    assert recipients(EventKind.GATE_ESCALATED) == ["manager"]
    assert recipients(EventKind.GATE_OVERDUE) == ["servicer"]
    # and again 24 hours later while it stays overdue
    assert services.gate_escalations_send(now=at(2027, 3, 10, 12, 1)) == 1
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_ESCALATED).count() == 2
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_OVERDUE).count() == 1
    # once decided, it no longer escalates (the legal gate it opened is not due before Thursday 15:00)
    clock.now = at(2027, 3, 10, 13, 0)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    assert services.gate_escalations_send(now=at(2027, 3, 11, 14, 59)) == 0
    assert OutboxEvent.objects.filter(kind=EventKind.GATE_ESCALATED, gate_review=review).count() == 2


def commit(promise, seller, service_user, legal_user):
    ps.promise_submit(promise_id=promise.pk, user=seller)
    for user in (service_user, legal_user):
        review = open_review(promise)
        gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review))
    ps.promise_commit(promise_id=promise.pk, user=seller)
    promise.refresh_from_db()
    return promise


def test_interim_notice_after_silent_days(clock, client, make_promise, seller, service_user, legal_user, customer,
                                          django_assert_max_num_queries):
    # given a promise committed on Friday (interim notice after 5 days by default)
    promise = commit(make_promise(), seller, service_user, legal_user)
    assert promise.state == PromiseState.COMMITTED and promise.customer_visible_at == clock.now
    in_review = make_promise(title="Another promise")
    ps.promise_submit(promise_id=in_review.pk, user=seller)
    committed_at = clock.now
    assert services.interim_notices_send(now=committed_at + dt.timedelta(days=4, hours=23)) == 0
    with django_assert_max_num_queries(2):
        assert selectors.promise_ids_needing_interim_notice(now=committed_at + dt.timedelta(days=6)) == [promise.pk]
    # when five days pass without a visible update, the customer gets one notice with the status link
    first = committed_at + dt.timedelta(days=5, minutes=1)
    mail.outbox.clear()
    assert services.interim_notices_send(now=first) == 1
    assert services.interim_notices_send(now=first + dt.timedelta(hours=1)) == 0
    drain()
    notice = CustomerNotice.objects.get()
    promise.refresh_from_db()
    assert (notice.promise, notice.email, promise.customer_visible_at) == (promise, customer.email, first)
    [email] = [m for m in mail.outbox if m.to == [customer.email]]
    assert email.subject == f"Zwischenbescheid zu Ihrer Service-Zusage: {promise.title}"  # the customer speaks German
    assert f"http://127.0.0.1:8000/status/{promise.status_token}/" in email.body
    # and another five silent days later, a second one
    assert services.interim_notices_send(now=first + dt.timedelta(days=5, minutes=1)) == 1
    assert CustomerNotice.objects.filter(promise=promise).count() == 2
    # the status page shows the notices sent
    page = client.get(f"/status/{promise.status_token}/?lang=en")
    assert page.status_code == 200
    assert "Interim notices sent" in page.content.decode()
    assert page.content.decode().count("We wrote to you that we are still working on your promise.") == 2


def test_interim_notice_while_on_hold_after_commitment(clock, make_promise, seller, service_user, legal_user,
                                                       delivery_user):
    promise = commit(make_promise(), seller, service_user, legal_user)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    clock.now = at(2027, 3, 8, 9, 0)
    gs.gate_decide(review_id=review.pk, user=delivery_user, decision="hold", comment="Waiting for parts")
    promise.refresh_from_db()
    assert promise.state == PromiseState.ON_HOLD and promise.customer_visible_at == clock.now
    assert services.interim_notices_send(now=clock.now + dt.timedelta(days=5, minutes=1)) == 1
    assert ServicePromise.objects.get(pk=promise.pk).customer_notices.count() == 1


def test_weekly_digest_once_per_week(clock, make_promise, seller, manager, service_user,
                                     django_assert_max_num_queries):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)  # its gate is due Tuesday 12:00
    monday = at(2027, 3, 15, 7, 0)
    with django_assert_max_num_queries(8):
        selectors.weekly_digest_figures(now=monday)
    first = services.weekly_digest_send(now=monday)
    assert services.weekly_digest_send(now=monday + dt.timedelta(days=2)).pk == first.pk
    assert services.weekly_digest_send(now=monday + dt.timedelta(days=7)).pk != first.pk
    drain()
    assert first.payload["overdue_gates"] == 1 and first.payload["broken_open"] == 0
    try:
        from feedback.models import ImprovementItem  # noqa: F401
        expected_improvements = 0
    except ImportError:
        expected_improvements = None
    assert first.payload["open_improvements"] == expected_improvements
    assert recipients(EventKind.WEEKLY_DIGEST) == ["manager", "manager"]
    digest = [m for m in mail.outbox if m.subject.startswith("Weekly improvement digest")]
    assert len(digest) == 2 and "Overdue gates: 1" in digest[0].body


def test_no_interim_notice_without_a_customer_email(clock, make_promise, seller, service_user, legal_user):
    from tests.factories import CustomerFactory

    silent = commit(make_promise(customer=CustomerFactory(email="")), seller, service_user, legal_user)
    assert services.interim_notices_send(now=clock.now + dt.timedelta(days=30)) == 0
    assert not silent.customer_notices.exists()
