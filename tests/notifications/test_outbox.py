"""The outbox and its delivery, run step by step in the test's thread (the worker tests run the same
services in real Celery workers)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import IllegalTransition, NotAllowed, ValidationFailed
from notifications import channels, dispatch, selectors, services
from notifications import delivery as delivery_module
from notifications.delivery import delivery_retry, delivery_send
from notifications.models import (
    Channel,
    ChannelPreference,
    Delivery,
    DeliveryState,
    EventKind,
    InboxItem,
    NotificationProfile,
    OutboxEvent,
)
from notifications.sweep import outbox_sweep
from notifications.user_settings import inbox_mark_all_read, inbox_mark_read, webhook_subscription_create
from promises import services as ps
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import UserFactory, all_checks_met
from tests.outbox_support import drain


def open_review(promise):
    return promise.gate_reviews.get(state=ReviewState.OPEN)


@pytest.fixture
def submitted(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    drain()  # the gate-opened notices of the submission are not what these tests look at
    return promise


def deliveries(kind, channel=None):
    qs = Delivery.objects.filter(event__kind=kind).select_related("recipient")
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def test_event_is_written_in_the_transaction_and_dispatched_after_commit(
        submitted, service_user, django_capture_on_commit_callbacks, monkeypatch):
    review = open_review(submitted)
    # given a decision that fails validation, when it is attempted, then no event exists
    with pytest.raises(ValidationFailed):
        gs.gate_decide(review_id=review.pk, user=service_user, decision="kill", comment="")
    assert not OutboxEvent.objects.filter(kind=EventKind.GATE_DECIDED).exists()

    # when the decision succeeds, the event is there and its dispatch waits for the commit
    with django_capture_on_commit_callbacks() as callbacks:
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
        assert OutboxEvent.objects.filter(kind=EventKind.GATE_DECIDED, fanned_out_at__isnull=True).count() == 1
    # then one message after commit carries both of the transaction's events (decided, next gate opened)
    published = []
    monkeypatch.setattr(dispatch, "publish", lambda name, *args, **kwargs: published.append((name, args)) or True)
    for callback in callbacks:
        callback()
    events = OutboxEvent.objects.filter(kind__in=[EventKind.GATE_DECIDED, EventKind.GATE_OPENED],
                                        fanned_out_at__isnull=True).order_by("pk")
    assert published == [(dispatch.FAN_OUT_TASK, tuple(events.values_list("pk", flat=True)))]
    assert len(published[0][1]) == 2


def test_recipients_follow_the_domain(make_promise, seller, service_user, service_user2, legal_user, manager):
    # given a submitted promise, then the service team (not the submitting seller) hears the gate opened
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    drain()
    opened = deliveries(EventKind.GATE_OPENED, Channel.EMAIL)
    assert sorted(d.recipient.username for d in opened) == ["servicer", "servicer2"]

    # when service decides go, the owner hears the decision and legal the next gate
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    assert [d.recipient for d in deliveries(EventKind.GATE_DECIDED, Channel.EMAIL)] == [seller]
    legal_review = open_review(promise)
    assert [d.recipient for d in deliveries(EventKind.GATE_OPENED, Channel.EMAIL).filter(
        event__payload__gate_review__id=legal_review.pk)] == [legal_user]

    # when legal kills it, the owner and the managers hear of the rejection
    gs.gate_decide(review_id=legal_review.pk, user=legal_user, decision="kill", comment="Liability unlimited")
    drain()
    rejected = deliveries(EventKind.PROMISE_REJECTED, Channel.EMAIL)
    assert sorted(d.recipient.username for d in rejected) == ["manager", "seller"]
    assert all(d.state == DeliveryState.SENT for d in Delivery.objects.all())


def test_fan_out_and_send_run_twice_deliver_once(submitted, service_user, seller):
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    event = OutboxEvent.objects.get(kind=EventKind.GATE_DECIDED)
    first = services.event_fan_out(event_id=event.pk)
    assert services.event_fan_out(event_id=event.pk) == []
    mail.outbox.clear()
    for delivery_id in first + first:
        delivery_send(delivery_id=delivery_id)
    assert [m.to for m in mail.outbox] == [[seller.email]]
    assert InboxItem.objects.filter(user=seller).count() == 1
    assert Delivery.objects.filter(event=event).count() == 2  # inbox (done in the fan-out) + email, no webhook
    assert len(first) == 1


def test_preferences_choose_channels(submitted, service_user, seller, receiver):
    # given the seller switched email off for decisions and has a webhook
    ChannelPreference.objects.create(user=seller, kind=EventKind.GATE_DECIDED, channel=Channel.EMAIL, enabled=False)
    webhook_subscription_create(user=seller, name="Team chat", url=receiver.url)
    review = open_review(submitted)
    mail.outbox.clear()
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    assert sorted(deliveries(EventKind.GATE_DECIDED).values_list("channel", flat=True)) == ["inbox", "webhook"]
    assert all(seller.email not in m.to for m in mail.outbox)


def test_email_is_written_in_the_recipients_language(submitted, service_user, seller):
    NotificationProfile.objects.create(user=seller, language="de")
    review = open_review(submitted)
    mail.outbox.clear()
    gs.gate_decide(review_id=review.pk, user=service_user, decision="hold", comment="Warten auf Kapazität")
    drain()
    decided = [m for m in mail.outbox if m.to == [seller.email] and "Gate" in m.subject]
    assert decided[0].subject.startswith("Gate „Feasibility“ entschieden (Anhalten)")
    assert "Kommentar: Warten auf Kapazität" in decided[0].body
    assert decided[0].extra_headers["X-SQG-Delivery"].endswith(f":email:user:{seller.pk}")
    assert decided[0].message()["Message-ID"] == decided[0].extra_headers["Message-ID"]
    # and someone without a profile gets English
    english = [m for m in mail.outbox if m.to == [seller.email] and m.subject.startswith("Promise on hold")]
    assert english == []  # seller is German now; the hold notice is German as well
    assert any(m.subject.startswith("Leistungsversprechen pausiert") for m in mail.outbox)


def test_webhook_is_signed_json(submitted, service_user, seller, receiver):
    hook = webhook_subscription_create(user=seller, name="CRM", url=receiver.url, kinds=[EventKind.GATE_DECIDED])
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    assert len(receiver.requests) == 1  # only the kind it subscribed to
    request = receiver.requests[0]
    headers = request["headers"]
    expected = hmac.new(hook.secret.encode(), headers["x-sqg-timestamp"].encode() + b"." + request["body"],
                        hashlib.sha256).hexdigest()
    assert headers["x-sqg-signature"] == f"sha256={expected}"
    assert headers["x-sqg-event"] == "gate_decided"
    assert request["json"]["promise"]["id"] == submitted.pk
    assert request["json"]["event"]["payload"]["decision"] == "go"


def test_failing_webhook_is_retried_with_backoff_then_disabled_without_blocking_others(
        submitted, service_user, seller, receiver, settings):
    settings.NOTIFICATIONS_WEBHOOK_MAX_FAILURES = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 10
    hook = webhook_subscription_create(user=seller, name="Broken", url=receiver.url)
    receiver.statuses = [500, 500, 500]
    review = open_review(submitted)
    mail.outbox.clear()
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    now = timezone.now()
    drain(now=now)
    webhook = deliveries(EventKind.GATE_DECIDED, Channel.WEBHOOK).get()
    # the first failure leaves it pending with a backoff; the email and inbox went out regardless
    assert (webhook.state, webhook.attempts, "HTTP 500" in webhook.last_error) == ("pending", 1, True)
    assert 9 <= (webhook.next_attempt_at - now).total_seconds() <= 40
    assert deliveries(EventKind.GATE_DECIDED, Channel.EMAIL).get().state == "sent"
    # not due yet: a second run does not send
    assert delivery_send(delivery_id=webhook.pk, now=now) == "not_due"
    for _ in range(2):
        webhook.refresh_from_db()
        delivery_send(delivery_id=webhook.pk, now=webhook.next_attempt_at)
    webhook.refresh_from_db()
    hook.refresh_from_db()
    assert webhook.attempts == 3 and len(receiver.requests) == 3
    assert not hook.is_active and "3 consecutive failures" in hook.disabled_reason
    # every attempt carried the same delivery id, so a receiver can drop what it has seen
    assert {r["headers"]["x-sqg-delivery"] for r in receiver.requests} == {webhook.key}
    # the next attempt fails without calling out, with the reason recorded
    delivery_send(delivery_id=webhook.pk, now=webhook.next_attempt_at)
    webhook.refresh_from_db()
    assert webhook.state == "failed" and "disabled" in webhook.last_error and len(receiver.requests) == 3


def test_webhook_that_times_out_is_retried(submitted, service_user, seller, receiver, settings):
    settings.NOTIFICATIONS_WEBHOOK_TIMEOUT = 0.3
    webhook_subscription_create(user=seller, name="Slow", url=receiver.url)
    receiver.hold_first.set()  # the first call hangs past the timeout
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    receiver.release.set()
    webhook = deliveries(EventKind.GATE_DECIDED, Channel.WEBHOOK).get()
    assert webhook.state == "pending" and "timed out" in webhook.last_error.lower()
    delivery_send(delivery_id=webhook.pk, now=webhook.next_attempt_at)
    webhook.refresh_from_db()
    assert webhook.state == "sent" and webhook.attempts == 2


def test_refusing_mail_server_leaves_the_row_pending_for_the_sweep(submitted, service_user, seller, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens: connection refused
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    now = timezone.now()
    drain(now=now)
    email = deliveries(EventKind.GATE_DECIDED, Channel.EMAIL).get()
    assert email.state == "pending" and email.attempts == 1 and "Connection refused" in email.last_error
    # the sweep re-dispatches it once it is overdue by the grace period
    later = email.next_attempt_at + dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS + 1)
    assert outbox_sweep(now=now)["deliveries"] == 0
    assert outbox_sweep(now=later)["deliveries"] >= 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    delivery_send(delivery_id=email.pk, now=later)
    email.refresh_from_db()
    assert email.state == "sent" and [m.to for m in mail.outbox] == [[seller.email]]


def test_template_error_fails_only_that_row(submitted, service_user, seller, legal_user, settings, tmp_path):
    broken = tmp_path / "notifications" / "email"
    broken.mkdir(parents=True)
    (broken / "gate_decided.txt").write_text("{% if %}broken{% endif %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    email = deliveries(EventKind.GATE_DECIDED, Channel.EMAIL).get()
    assert email.state == "failed" and "TemplateSyntaxError" in email.last_error
    assert deliveries(EventKind.GATE_DECIDED, Channel.INBOX).get().state == "sent"
    assert deliveries(EventKind.GATE_OPENED, Channel.EMAIL).filter(state="sent").exists()


def test_publishing_failure_after_commit_is_logged_and_swept(submitted, service_user, monkeypatch, caplog,
                                                             django_capture_on_commit_callbacks):
    from celery import current_app

    send_task = current_app.send_task

    def broker_down_for_the_fan_out(name, *args, **kwargs):
        if name == dispatch.FAN_OUT_TASK:
            raise ConnectionRefusedError("broker down")
        return send_task(name, *args, **kwargs)

    monkeypatch.setattr(current_app, "send_task", broker_down_for_the_fan_out)
    review = open_review(submitted)
    with django_capture_on_commit_callbacks(execute=True):
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    assert "outbox sweep will re-dispatch" in caplog.text
    monkeypatch.undo()
    event = OutboxEvent.objects.get(kind=EventKind.GATE_DECIDED)
    assert event.fanned_out_at is None
    later = event.created_at + dt.timedelta(minutes=5)
    assert outbox_sweep(now=later)["events"] == 2  # decided + next gate opened


def test_inbox_unread_count_and_mark_read(submitted, service_user, seller, django_assert_max_num_queries):
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="hold", comment="Capacity check")
    drain()
    with django_assert_max_num_queries(1):
        assert selectors.inbox_unread_count(user=seller) == 2  # gate decided, promise on hold
    with django_assert_max_num_queries(1):
        items = list(selectors.inbox_list(user=seller))
        assert [i.subject for i in items] == [f"promise:{submitted.pk}"] * 2
    inbox_mark_read(user=seller, item_id=items[0].pk)
    assert selectors.inbox_unread_count(user=seller) == 1
    other = UserFactory(username="other")
    with pytest.raises(Exception, match="does not exist"):
        inbox_mark_read(user=other, item_id=items[1].pk)
    assert inbox_mark_all_read(user=seller) == 1
    assert selectors.inbox_unread_count(user=seller) == 0


def test_fan_out_takes_a_fixed_number_of_queries(make_promise, seller, django_assert_max_num_queries):
    for i in range(6):
        UserFactory(username=f"svc{i}", teams=["service"])
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    event = OutboxEvent.objects.get(kind=EventKind.GATE_OPENED)
    with django_assert_max_num_queries(9):
        ids = services.event_fan_out(event_id=event.pk)
    # six inbox items written with the fan-out, six emails handed to workers
    assert len(ids) == 6 and InboxItem.objects.filter(delivery__event=event).count() == 6


def test_failed_delivery_is_sent_again_by_a_manager(submitted, service_user, seller, manager, settings, tmp_path):
    broken = tmp_path / "notifications" / "email"
    broken.mkdir(parents=True)
    (broken / "gate_decided.txt").write_text("{% if %}broken{% endif %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    failed = deliveries(EventKind.GATE_DECIDED, Channel.EMAIL).get()
    assert failed.state == "failed"
    # a non-manager may not; once the template is fixed, a manager sends it again
    with pytest.raises(NotAllowed, match="Only a manager"):
        delivery_retry(delivery_id=failed.pk, user=seller)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": []}]
    delivery_retry(delivery_id=failed.pk, user=manager)
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    mail.outbox.clear()
    drain()
    failed.refresh_from_db()
    assert failed.state == "sent" and [m.to for m in mail.outbox] == [[seller.email]]
    with pytest.raises(IllegalTransition, match="Only a failed delivery"):
        delivery_retry(delivery_id=failed.pk, user=manager)


def test_settings_reject_bad_input(seller):
    with pytest.raises(ValidationFailed, match="http") as bad_url:
        webhook_subscription_create(user=seller, name="x", url="ftp://example.com/hook")
    with pytest.raises(ValidationFailed, match="Unknown event kinds") as bad_kind:
        webhook_subscription_create(user=seller, name="x", url="https://example.com/h", kinds=["nope"])
    with pytest.raises(ValidationFailed, match="name") as no_name:
        webhook_subscription_create(user=seller, name="  ", url="https://example.com/h")
    assert [e.value.code for e in (bad_url, bad_kind, no_name)] == ["invalid_url", "invalid_kind", "invalid"]
    assert not seller.webhook_subscriptions.exists()


def test_an_email_sent_again_after_a_crash_has_the_message_id_of_the_first(
        submitted, service_user, seller, settings, monkeypatch):
    # given a worker that dies after the mail server took the message, before it recorded that
    review = open_review(submitted)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    services.event_fan_out(event_id=OutboxEvent.objects.get(kind=EventKind.GATE_DECIDED).pk)
    email = deliveries(EventKind.GATE_DECIDED, Channel.EMAIL).get()
    mail.outbox.clear()

    def worker_killed(*args, **kwargs):
        raise SystemExit("killed between sending and recording")

    monkeypatch.setattr(delivery_module, "_delivery_sent_record", worker_killed)
    now = timezone.now()
    with pytest.raises(SystemExit):
        delivery_send(delivery_id=email.pk, now=now)
    monkeypatch.undo()
    email.refresh_from_db()
    assert email.state == DeliveryState.SENDING
    # when its lease runs out, the next attempt sends it again
    later = email.lease_until + dt.timedelta(seconds=1)
    assert delivery_send(delivery_id=email.pk, now=later) == "sent"
    # then the receiver gets two copies it can tell are one message
    first, again = mail.outbox
    assert first.to == again.to == [seller.email]
    assert first.message()["Message-ID"] == again.message()["Message-ID"] == channels.message_id(email)
    assert channels.message_id(email).endswith("@service-quality-gates.invalid>")
