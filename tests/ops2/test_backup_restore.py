"""Backup and restore as docs/operations.md describes them: pg_dump -Fc of a database with promises
made through the services, pg_restore into a new database, and the same rows come back."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from notifications import services as notifications
from notifications.models import OutboxEvent
from promises import services as promises
from tests.api.scenarios import Scenario

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _server() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or "127.0.0.1", "port": str(db["PORT"] or 5432), "user": db["USER"] or "postgres"}


def _run(*command: str) -> None:
    server = _server()
    env = {**os.environ, "PGHOST": server["host"], "PGPORT": server["port"], "PGUSER": server["user"]}
    if settings.DATABASES["default"].get("PASSWORD"):
        env["PGPASSWORD"] = settings.DATABASES["default"]["PASSWORD"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr[-2000:]}"


def _connect(name: str) -> psycopg.Connection:
    server = _server()
    return psycopg.connect(host=server["host"], port=server["port"], user=server["user"], dbname=name,
                           password=settings.DATABASES["default"].get("PASSWORD") or None, autocommit=True)


def _row_counts(name: str) -> dict[str, int]:
    with _connect(name) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def _sequences(name: str) -> dict[str, int | None]:
    with _connect(name) as conn:
        return dict(conn.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))


def _trail(name: str, promise_id: int) -> list[tuple]:
    with _connect(name) as conn:
        return conn.execute(
            "SELECT subject, gate_review_id, action, from_state, to_state, actor_id, comment, at "
            "FROM promises_transitionlog WHERE promise_id = %s ORDER BY at, id", [promise_id]).fetchall()


@pytest.fixture
def restored_database():
    name = f"sqg_restore_{uuid.uuid4().hex[:10]}"
    _run("psql", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"')
    yield name
    _run("psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restores_every_row_and_the_trail(tmp_path, restored_database, make_promise, seller,
                                                service_user, legal_user, delivery_user):
    # given a few promises made through the services, in several states, with their notices fanned out
    scenario = Scenario(make_promise, seller, service_user, legal_user, delivery_user)
    scenario.draft()
    scenario.rework()
    scenario.condition()
    committed = promises.promise_commit(promise_id=scenario.approved().pk, user=seller, comment="signed")
    for event_id in OutboxEvent.objects.values_list("pk", flat=True)[:3]:
        notifications.event_fan_out(event_id=event_id)
    source = connection.settings_dict["NAME"]
    before = _row_counts(source)
    assert before["promises_servicepromise"] >= 4 and before["promises_transitionlog"] >= 10
    assert before["notifications_delivery"] >= 1

    # when the database is dumped (custom format) and restored into a new, empty one
    dump = tmp_path / "sqg.dump"
    _run("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source)
    _run("pg_restore", "--no-owner", "--exit-on-error", "--jobs=2", f"--dbname={restored_database}", str(dump))

    # then every table has the same rows, the sequences go on from where they were,
    # and the committed promise's trail is the same, row for row
    assert _row_counts(restored_database) == before
    assert _sequences(restored_database) == _sequences(source)
    trail = _trail(source, committed.pk)
    # the commitment, and the customer's status link issued with it
    assert [row[2] for row in trail][-2:] == ["commit", "status_link_issued"]
    assert _trail(restored_database, committed.pk) == trail
