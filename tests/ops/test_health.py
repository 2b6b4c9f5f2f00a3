"""/health/ reports every dependency and answers 503 only without the database; /health/ready/ is the
load balancer's question."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from config import health
from notifications.models import OutboxEvent
from promises import services as ps
from tests.outbox_support import thread_worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_worker_ping():
    health._worker_memo.update(at=float("-inf"), state=None)
    yield
    health._worker_memo.update(at=float("-inf"), state=None)


@pytest.fixture
def unreachable_database():
    """The connection points at a port where no PostgreSQL listens (the real one is untouched)."""
    connection.close()
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    yield
    connection.close()
    connection.settings_dict["PORT"] = port


def test_everything_up_reports_each_dependency_and_the_outbox(production_like, make_promise, seller):
    # given a submission whose notifications could not be handed to the broker (they wait)
    production_like.stop()
    ps.promise_submit(promise_id=make_promise().pk, user=seller)
    waiting = OutboxEvent.objects.filter(fanned_out_at__isnull=True).count()
    production_like.start()
    with thread_worker():
        response = Client().get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name: body[name]["ok"] for name in ("database", "broker", "cache", "worker", "outbox")} == {
        "database": True, "broker": True, "cache": True, "worker": True, "outbox": True}
    assert waiting >= 1 and body["outbox"]["pending_events"] == waiting
    assert body["outbox"]["oldest_pending_age_seconds"] >= 0


def test_redis_down_is_degraded_but_200(production_like):
    production_like.stop()
    response = Client().get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "degraded"
    assert (body["database"]["ok"], body["broker"]["ok"], body["cache"]["ok"], body["worker"]["ok"]) == (
        True, False, False, False)
    assert body["outbox"] == {"ok": True, "pending_events": 0, "pending_deliveries": 0,
                              "oldest_pending_age_seconds": None}


def test_no_worker_answering_is_reported(production_like):
    body = Client().get("/health/").json()
    assert body["worker"] == {"ok": False, "answered": []}
    assert body["status"] == "degraded"


def test_database_down_is_503(production_like, unreachable_database):
    response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert Client().get("/health/ready/").status_code == 503


def test_ready_answers_200_while_the_database_answers(production_like):
    production_like.stop()  # broker and cache do not matter to readiness
    response = Client().get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["ready"] is True
