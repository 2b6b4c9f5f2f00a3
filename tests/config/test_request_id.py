"""Structured logs and the request id: from the web request's header into its response, its log
lines and the log lines of the Celery tasks it caused (a real worker on the real Redis)."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.test import Client

from config.celery import REQUEST_ID_TASK_HEADER, app
from core.logging import JSONFormatter, RequestIdFilter, request_id_set
from notifications import tasks
from tests.api.conftest import token_client


class JSONLines(logging.Handler):
    """What the console handler writes, one parsed JSON object per record (formatted when emitted)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.setFormatter(JSONFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines():
    handler = JSONLines()
    loggers = [logging.getLogger(), logging.getLogger("celery.app.trace"), logging.getLogger("tests.config")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    yield handler.lines
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_settings_log_one_json_object_per_line_with_the_request_id():
    # given the LOGGING of the settings every environment starts from
    handler = settings.LOGGING["handlers"]["console"]
    assert settings.LOGGING["formatters"][handler["formatter"]]["()"] == "core.logging.JSONFormatter"
    assert handler["filters"] == ["request_id"]
    assert settings.MIDDLEWARE[0] == "core.middleware.RequestIdMiddleware"
    # when a record is formatted while a request id is current
    request_id_set("abc123")
    try:
        record = logging.LogRecord("promises.services", logging.WARNING, __file__, 1, "kept %s", ("yes",), None)
        RequestIdFilter().filter(record)
        line = JSONFormatter().format(record)
    finally:
        request_id_set(None)
    # then it is one line of JSON with the fields a log pipeline indexes
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "promises.services"
    assert entry["message"] == "kept yes" and entry["request_id"] == "abc123"
    assert entry["time"].endswith("+00:00")


@pytest.mark.django_db
def test_the_client_request_id_is_returned_and_logged(json_lines):
    response = Client().get("/api/nothing-here/", HTTP_X_REQUEST_ID="client-chosen.42")
    assert response["X-Request-ID"] == "client-chosen.42"
    # Django's own "Not Found" line, written after the view returned, carries it too
    assert any(line["request_id"] == "client-chosen.42" and line["logger"] == "django.request"
               for line in json_lines)


@pytest.mark.django_db
@pytest.mark.parametrize("sent", [None, "", "x" * 200, "has space", "new\nline"])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_new_one(sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    first, second = Client().get("/health/", **headers), Client().get("/health/", **headers)
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]


# --- into the tasks the request caused ---------------------------------------------------------------

@pytest.fixture
def broker():
    url = os.environ.get("SQG_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis is not available")
    import redis

    redis.Redis.from_url(url).flushdb()  # our own database number only (SQG_REDIS_DB)
    before = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = url
    app.conf.broker_transport_options = dict(settings.NETWORK_BROKER_TRANSPORT_OPTIONS)
    app._after_fork()
    yield url
    app.conf.broker_url, app.conf.broker_transport_options = before
    app._after_fork()
    redis.Redis.from_url(url).flushdb()
    with connection.cursor() as cursor:  # the worker thread's connection must not outlive the test
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def _wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_log_lines_of_the_tasks_it_caused(broker, json_lines, make_promise, seller,
                                                                    service_user):
    # given a promise whose first gate belongs to the service team (so opening it notifies someone)
    promise = make_promise()
    published: list[dict] = []

    from celery.signals import before_task_publish

    def keep_headers(headers=None, **kwargs):
        published.append(dict(headers or {}))

    before_task_publish.connect(keep_headers, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30,
                          loglevel="INFO"):
            # when the seller submits the promise with a request id of their own
            response = token_client(seller).post(f"/api/promises/{promise.pk}/submit/", {}, format="json",
                                                 HTTP_X_REQUEST_ID="req-submit-7")
            assert response.status_code == 200 and response["X-Request-ID"] == "req-submit-7"
            # and beat, outside any request, fires a task too
            tasks.outbox_sweep.delay()

            def traced(task_name):
                return [line for line in json_lines if line["logger"] == "celery.app.trace"
                        and task_name in line["message"] and "succeeded" in line["message"]]

            _wait_for(lambda: traced("event_fan_out") and traced("delivery_send") and traced("outbox_sweep"))
    finally:
        before_task_publish.disconnect(keep_headers)
    # then the message carried the id, and every task the request caused logged under it,
    # including the deliveries the fan-out task published in the worker
    assert {h.get("task"): h.get(REQUEST_ID_TASK_HEADER) for h in published
            if h.get("task") == "notifications.tasks.event_fan_out"} == {
        "notifications.tasks.event_fan_out": "req-submit-7"}
    assert {line["request_id"] for line in traced("event_fan_out")} == {"req-submit-7"}
    assert {line["request_id"] for line in traced("delivery_send")} == {"req-submit-7"}
    # the task no request caused logs under an id of its own
    [sweep] = traced("outbox_sweep")
    assert sweep["request_id"].startswith("task-")
