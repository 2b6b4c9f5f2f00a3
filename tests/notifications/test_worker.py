"""Delivery by REAL Celery workers on the REAL Redis (no eager mode): a worker in a thread of this
process (locmem email is visible here), and worker subprocesses for the kill test."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from config.celery import app
from notifications import dispatch, sweep, user_settings
from notifications.models import Channel, Delivery, DeliveryState, EventKind, InboxItem, OutboxEvent
from promises import services as ps
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import all_checks_met
from tests.outbox_support import thread_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def use_broker(url: str) -> None:
    """Point this process's publishers at another broker (drops the pooled connections), with the
    transport options production uses for Redis."""
    app.conf.broker_url = url
    app.conf.broker_transport_options = dict(settings.NETWORK_BROKER_TRANSPORT_OPTIONS)
    app._after_fork()


@pytest.fixture
def broker(redis_url):
    before = app.conf.broker_url, app.conf.broker_transport_options
    use_broker(redis_url)
    yield redis_url
    app.conf.broker_url, app.conf.broker_transport_options = before
    app._after_fork()
    # Workers (threads, subprocesses) kept connections to the test database; they must not
    # outlive the test, or the next flush and the final DROP DATABASE would wait for them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def finished_tasks():
    """(task name, args, return value) of every task the in-process worker ran."""
    seen: list[tuple] = []

    def record(sender=None, args=None, retval=None, **kwargs):
        seen.append((sender.name, tuple(args or ()), retval))

    task_postrun.connect(record, weak=False)
    yield seen
    task_postrun.disconnect(record)


def all_delivered() -> bool:
    return (not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists()
            and not Delivery.objects.exclude(state=DeliveryState.SENT).exists())


def open_review(promise):
    return promise.gate_reviews.get(state=ReviewState.OPEN)


def per_recipient(receiver, *, after_event_id: int) -> dict[str, Counter]:
    """Per username: emails, inbox items and webhook calls of the events after the given one."""
    kinds = {EventKind.GATE_DECIDED, EventKind.GATE_OPENED}
    result: dict[str, Counter] = {}
    for d in Delivery.objects.filter(event__pk__gt=after_event_id).select_related("recipient"):
        result.setdefault(d.recipient.username, Counter())
    for m in mail.outbox:
        user = m.to[0].split("@")[0]
        if user in result and ("decided" in m.subject or "open for your decision" in m.subject):
            result[user]["email"] += 1
    for item in InboxItem.objects.filter(kind__in=kinds).select_related("user"):
        result[item.user.username]["inbox"] += 1
    for request in receiver.requests:
        if request["json"]["event"]["kind"] in kinds:
            result[request["json"]["recipient"]]["webhook"] += 1
    return result


def test_gate_decision_delivers_one_email_inbox_item_and_webhook_call_per_recipient(
        broker, receiver, make_promise, seller, service_user, legal_user, finished_tasks):
    for user in (seller, service_user, legal_user):
        user_settings.webhook_subscription_create(user=user, name="chat", url=receiver.url)
    promise = make_promise()
    with thread_worker():
        ps.promise_submit(promise_id=promise.pk, user=seller)
        wait_until(all_delivered, what="the submission's notices")
        mail.outbox.clear()
        receiver.requests.clear()
        InboxItem.objects.all().delete()
        # when service decides go
        last_event = OutboxEvent.objects.latest("pk").pk
        review = open_review(promise)
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
        wait_until(lambda: all_delivered() and len(receiver.requests) >= 2, what="the decision's notices")
        time.sleep(0.5)  # a duplicate would arrive now
    # then the owner hears the decision and legal the next gate: once on every channel
    once = Counter({"email": 1, "inbox": 1, "webhook": 1})
    assert per_recipient(receiver, after_event_id=last_event) == {"seller": once, "lawyer": once}
    assert len(mail.outbox) == 2 and len(receiver.requests) == 2
    assert {name for name, _, _ in finished_tasks} >= {"notifications.tasks.event_fan_out",
                                                          "notifications.tasks.delivery_send"}


def test_same_task_delivered_twice_sends_once(broker, receiver, make_promise, seller, service_user, finished_tasks):
    user_settings.webhook_subscription_create(user=seller, name="chat", url=receiver.url)
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    with thread_worker():
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
        wait_until(all_delivered, what="first delivery")
        sent = (len(mail.outbox), InboxItem.objects.count(), len(receiver.requests))
        # when every message is delivered to the worker again
        event_ids = list(OutboxEvent.objects.values_list("pk", flat=True))
        delivery_ids = list(Delivery.objects.values_list("pk", flat=True))
        finished_tasks.clear()
        for pk in event_ids:
            dispatch.publish(dispatch.FAN_OUT_TASK, pk)
        for pk in delivery_ids:
            dispatch.publish(dispatch.DELIVERY_TASK, pk)
        wait_until(lambda: len(finished_tasks) >= len(event_ids) + len(delivery_ids), what="the duplicates")
    # then each duplicate found its row done and sent nothing
    assert {retval for name, _, retval in finished_tasks if name.endswith("delivery_send")} == {"done"}
    assert {retval for name, _, retval in finished_tasks if name.endswith("event_fan_out")} == {0}
    assert (len(mail.outbox), InboxItem.objects.count(), len(receiver.requests)) == sent
    assert sent[0] >= 2 and sent[2] == 1


def test_broker_down_at_commit_delays_but_does_not_lose(broker, receiver, make_promise, seller, service_user,
                                                        caplog):
    user_settings.webhook_subscription_create(user=seller, name="chat", url=receiver.url)
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    # given the broker is unreachable (nothing listens on port 1)
    use_broker("redis://127.0.0.1:1/0")
    started = time.monotonic()
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    # then the decision stands, quickly, and its events wait in the outbox
    assert time.monotonic() - started < 5
    review.refresh_from_db()
    assert review.state == ReviewState.PASSED
    assert "the outbox sweep will re-dispatch it" in caplog.text
    waiting = OutboxEvent.objects.filter(kind=EventKind.GATE_DECIDED, fanned_out_at__isnull=True)
    assert waiting.count() == 1
    # when the broker is back, the sweep (beat) re-dispatches: delivered exactly once
    use_broker(broker)
    mail.outbox.clear()
    later = timezone.now() + dt.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS + 1)
    with thread_worker():
        assert sweep.outbox_sweep(now=later)["events"] >= 1
        assert sweep.outbox_sweep(now=later)["events"] >= 0  # a second beat tick before the worker caught up
        wait_until(all_delivered, what="delivery after the broker returned")
        time.sleep(0.5)
    decided = Delivery.objects.filter(event__kind=EventKind.GATE_DECIDED)
    assert sorted(decided.values_list("channel", "state")) == [("email", "sent"), ("inbox", "sent"),
                                                                ("webhook", "sent")]
    assert [m.to for m in mail.outbox if "decided" in m.subject] == [[seller.email]]
    assert [r["json"]["event"]["kind"] for r in receiver.requests] == ["gate_decided"]


def worker_process(redis_url: str, mail_dir: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # Short enough for a test: a dead worker's claim and its unacked message come back in seconds.
        "NOTIFICATIONS_LEASE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the test's receiver listens on loopback
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def emails_in(mail_dir: Path) -> list[str]:
    """Recipients of the messages the file-based backend wrote (one per message)."""
    found = []
    for path in sorted(mail_dir.glob("*.log")):
        for line in path.read_text().splitlines():
            if line.startswith("To: "):
                found.append(line[4:])
    return found


def test_worker_killed_mid_delivery_delivers_once_after_restart(broker, receiver, make_promise, seller,
                                                                service_user, tmp_path):
    user_settings.webhook_subscription_create(user=seller, name="chat", url=receiver.url)
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    receiver.hold_first.set()  # the first webhook call hangs: the worker is in the middle of it
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))

    worker = worker_process(broker, mail_dir, log)
    try:
        assert receiver.first_arrived.wait(60), log.read_text()
        webhook = Delivery.objects.get(channel=Channel.WEBHOOK)
        assert webhook.state == DeliveryState.SENDING and webhook.attempts == 1
        # when the worker is killed in the middle of the delivery
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        receiver.release.set()
        # and a new worker starts; beat's sweep runs once the dead worker's lease is over
        worker = worker_process(broker, mail_dir, log)
        wait_until(lambda: timezone.now() > Delivery.objects.get(pk=webhook.pk).lease_until, timeout=10)
        sweep.outbox_sweep()
        wait_until(all_delivered, timeout=60, what="delivery after restart: " + log.read_text()[-3000:])
        time.sleep(1)  # a redelivered duplicate of the killed task would be handled by now
    finally:
        worker.kill()
        worker.wait(10)
    # then the interrupted webhook was sent once more (same delivery key, so a receiver can drop the
    # half-seen first call), and nothing else twice
    webhook.refresh_from_db()
    assert (webhook.state, webhook.attempts) == (DeliveryState.SENT, 2)
    assert [r["headers"]["x-sqg-delivery"] for r in receiver.requests] == [webhook.key, webhook.key]
    emails = Delivery.objects.filter(channel=Channel.EMAIL)
    assert sorted(emails_in(mail_dir)) == sorted(d.address for d in emails)
    assert InboxItem.objects.count() == Delivery.objects.filter(channel=Channel.INBOX).count()
    assert emails.count() == 2  # the service team's gate opened, the seller's decision (legal has no members)
