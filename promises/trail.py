"""Appending several rows to one promise's trail in one statement, with their hash chain.

`TransitionLog.save()` appends one row on its own (it takes the promise's row lock and reads the
previous hash itself, whoever calls it). A service that writes several rows of one change and already
holds the promise's row lock hands them here instead: one read of the previous hash, one INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from .models import TransitionLog
from .trail_chain import GENESIS


def trail_append(rows: Sequence[TransitionLog]) -> list[TransitionLog]:
    """Chain and insert `rows` (unsaved, of one promise, in the order they happened).

    The caller must hold the promise's row lock (`select_for_update` in the current transaction):
    that lock orders every writer of the trail, so the last hash read here stays the last one until
    these rows are in."""
    if not rows:
        return []
    promise_id = rows[0].promise_id
    if any(row.promise_id != promise_id or row.pk is not None for row in rows):
        raise ValueError("trail_append takes new rows of one promise")
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("trail_append runs inside the promise's locking transaction")
    table = TransitionLog._meta.db_table
    with connection.cursor() as cursor:
        # Hand-written: the two statements every decision sends, without the ORM's compiling of them
        # (bench/decisions.py: they were a sixth of the decision's time outside the database).
        cursor.execute(f"SELECT chain_hash FROM {table} WHERE promise_id = %s ORDER BY id DESC LIMIT 1",  # noqa: S608
                       [promise_id])
        found = cursor.fetchone()
        previous = GENESIS if found is None else found[0]
        values = []
        for row in rows:
            row.chain_hash = previous = row.compute_hash(previous)
            values.append((row.subject, promise_id, row.gate_review_id, row.action, row.from_state, row.to_state,
                           row.actor_id, row.comment, row.at, row.chain_hash))
        placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(values))
        cursor.execute(
            f"INSERT INTO {table} (subject, promise_id, gate_review_id, action, from_state, to_state, actor_id, "  # noqa: S608
            f"comment, at, chain_hash) VALUES {placeholders} RETURNING id",
            [value for row in values for value in row])
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding = False
    return list(rows)
