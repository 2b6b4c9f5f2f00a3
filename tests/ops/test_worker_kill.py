"""SIGKILL a worker's pool process, then the worker itself, in the middle of a burst of events: after a
restart every delivery arrives, none is lost, and a repeat (killed between sending and recording)
carries the same delivery key so that its receiver can drop it."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from notifications.models import Channel, Delivery, DeliveryState
from promises import services as ps
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import all_checks_met
from tests.ops.conftest import (
    all_delivered,
    email_delivery_keys,
    pool_children,
    sweep,
    webhook_to,
    worker_process,
)
from tests.outbox_support import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROMISES = 12


def test_sigkill_of_pool_and_worker_during_a_burst_loses_nothing(
        production_like, counting_receiver, make_promise, seller, service_user, tmp_path):
    webhook_to(counting_receiver.url, seller, service_user)
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    broker = production_like.url(0)
    promises = [make_promise(title=f"Burst promise {n}") for n in range(PROMISES)]
    worker = worker_process(broker, mail_dir, log, lease_seconds=10)
    kills = 0
    try:
        # a burst: submissions (the service team hears of each gate), then decisions (the seller hears)
        for promise in promises:
            ps.promise_submit(promise_id=promise.pk, user=seller)
        wait_until(lambda: len(counting_receiver.keys) >= 3, timeout=60, what="the first deliveries")
        # when the pool process is killed in the middle of it
        os.kill(pool_children(worker)[0], signal.SIGKILL)
        kills += 1
        for promise in promises[: PROMISES // 2]:
            review = promise.gate_reviews.get(state=ReviewState.OPEN)
            gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
        # and then the worker itself, with its whole pool
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        kills += 1
        for promise in promises[PROMISES // 2:]:
            review = promise.gate_reviews.get(state=ReviewState.OPEN)
            gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
        # and a supervisor starts it again; beat's sweep runs every few seconds
        worker = worker_process(broker, mail_dir, log, lease_seconds=10)

        def swept_and_delivered() -> bool:
            sweep()
            return all_delivered()

        wait_until(swept_and_delivered, timeout=120, what="every delivery after the restart: " + log.read_text()[-3000:])
        time.sleep(2)  # a redelivered duplicate of a killed task would be handled by now
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    # then every email and webhook delivery arrived, once per key unless its sender died mid-send
    expected = {channel: set(Delivery.objects.filter(channel=channel).values_list("key", flat=True))
                for channel in (Channel.EMAIL, Channel.WEBHOOK)}
    received = {Channel.EMAIL: Counter(email_delivery_keys(mail_dir)), Channel.WEBHOOK: Counter(counting_receiver.keys)}
    assert expected[Channel.WEBHOOK] and expected[Channel.EMAIL]
    for channel in expected:
        assert set(received[channel]) == expected[channel], f"{channel}: lost or unknown keys"
    repeats = sum(count - 1 for counter in received.values() for count in counter.values())
    assert repeats <= kills  # at most the one send each killed process had in flight
    assert not Delivery.objects.exclude(state=DeliveryState.SENT).exists()
    print(f"deliveries: {sum(len(keys) for keys in expected.values())} expected, "
          f"{sum(len(c) for c in received.values())} distinct keys received, {repeats} repeated sends (same key)")
