"""The trail is tamper-proof: the database refuses to change or remove a row, and every promise's
rows are hash-chained, so a change made with the triggers switched off is found by `verify_trail`."""

from __future__ import annotations

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from promises.models import TransitionLog
from promises.trail_chain import GENESIS
from promises.trail_verify import trail_chain_breaks
from tests.gate_flow import approved, submitted

TRAIL = "promises_transitionlog"


@pytest.mark.django_db
def test_each_row_is_chained_to_the_previous_row_of_its_promise(make_promise, seller, service_user, legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    other = submitted(make_promise, seller)
    rows = list(TransitionLog.objects.filter(promise=promise).order_by("id"))
    assert len(rows) >= 3
    previous = GENESIS
    for row in rows:
        assert row.chain_hash == row.compute_hash(previous) and len(row.chain_hash) == 64
        previous = row.chain_hash
    # another promise's chain starts afresh
    first_of_other = TransitionLog.objects.filter(promise=other).order_by("id").first()
    assert first_of_other.chain_hash == first_of_other.compute_hash(GENESIS)
    checked, breaks = trail_chain_breaks()
    assert (checked, breaks) == (TransitionLog.objects.count(), [])


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    f"UPDATE {TRAIL} SET to_state = 'approved', comment = 'rewritten' WHERE id = %s",
    f"DELETE FROM {TRAIL} WHERE id = %s",
])
def test_raw_sql_cannot_change_or_remove_a_trail_row(make_promise, seller, statement):
    promise = submitted(make_promise, seller)
    row = TransitionLog.objects.filter(promise=promise).first()
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot update or delete rows"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [row.pk])
    assert TransitionLog.objects.get(pk=row.pk).comment == row.comment


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_verifier_finds_a_row_changed_with_the_trigger_switched_off(make_promise, seller, service_user,
                                                                        legal_user, capsys):
    # given an intact trail
    promise = approved(make_promise, seller, service_user, legal_user)
    untouched = submitted(make_promise, seller)
    call_command("verify_trail")
    assert "Trail intact" in capsys.readouterr().out
    # when someone who owns the database switches the trigger off and rewrites a gate decision
    rows = list(TransitionLog.objects.filter(promise=promise).order_by("id"))
    forged = rows[1]
    with pgtrigger.ignore("promises.TransitionLog:trail_append_only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TRAIL} SET comment = 'all fine' WHERE id = %s", [forged.pk])
    # then the verifier names the promise and the first broken row, and fails
    with pytest.raises(CommandError, match="1 promise trail"):
        call_command("verify_trail")
    assert f"promise {promise.pk}: trail row {forged.pk} is broken" in capsys.readouterr().err
    assert [b.promise_id for b in trail_chain_breaks()[1]] == [promise.pk]
    assert untouched.pk not in [b.promise_id for b in trail_chain_breaks()[1]]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_verifier_finds_a_row_removed_with_the_trigger_disabled(make_promise, seller, service_user,
                                                                     legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    rows = list(TransitionLog.objects.filter(promise=promise).order_by("id"))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the set-up's deferred checks run first
        cursor.execute(f"ALTER TABLE {TRAIL} DISABLE TRIGGER ALL")
        cursor.execute(f"DELETE FROM {TRAIL} WHERE id = %s", [rows[1].pk])
        cursor.execute(f"ALTER TABLE {TRAIL} ENABLE TRIGGER ALL")
    breaks = trail_chain_breaks()[1]
    assert [(b.promise_id, b.row_id) for b in breaks] == [(promise.pk, rows[2].pk)]
