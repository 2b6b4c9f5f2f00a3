"""A worker (the production command line) rides out several Redis outages by itself and still
delivers afterwards: what was decided during each outage arrives once Redis is back."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from notifications.models import Channel, Delivery
from promises import services as ps
from qualitygates import services as gs
from qualitygates.models import ReviewState
from tests.factories import all_checks_met
from tests.ops.conftest import all_delivered, sweep, webhook_to, worker_process
from tests.outbox_support import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OUTAGES = 3
OUTAGE_SECONDS = 6


def test_worker_survives_repeated_redis_outages_and_delivers_after_each(
        production_like, counting_receiver, make_promise, seller, service_user, tmp_path, settings):
    redis = production_like
    webhook_to(counting_receiver.url, seller)
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0  # this process runs the sweep: no waiting for its grace
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()
    promises = [make_promise(title=f"Outage promise {n}") for n in range(OUTAGES)]
    for promise in promises:
        ps.promise_submit(promise_id=promise.pk, user=seller)
    worker = worker_process(redis.url(0), mail_dir, log, lease_seconds=120)
    try:
        wait_until(all_delivered, timeout=60, what="the submissions' notices: " + log.read_text()[-2000:])
        for promise in promises:
            # given Redis goes away under the running worker
            redis.stop()
            review = promise.gate_reviews.get(state=ReviewState.OPEN)
            gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
            time.sleep(OUTAGE_SECONDS)
            # when it comes back, empty, and beat's sweep runs
            redis.start()

            def swept_and_delivered() -> bool:
                sweep()
                return all_delivered()

            # then the same worker, still running, delivers the decision
            wait_until(swept_and_delivered, timeout=90, what="delivery after an outage: " + log.read_text()[-3000:])
            assert worker.poll() is None, log.read_text()[-3000:]
        time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool
        worker.wait(10)
    text = log.read_text()
    assert "Unrecoverable error" not in text
    webhooks = Counter(counting_receiver.keys)
    assert set(webhooks) == set(Delivery.objects.filter(channel=Channel.WEBHOOK).values_list("key", flat=True))
    assert max(webhooks.values()) == 1
