"""Appending several rows to one promise's trail in one statement, with their hash chain.

`TransitionLog.save()` appends one row on its own (it takes the promise's row lock and reads the
previous hash itself, whoever calls it). A service that writes several rows of one change and already
holds the promise's row lock hands them here instead: one read of the previous hash, one INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

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
    previous = (TransitionLog.objects.filter(promise_id=promise_id).order_by("-id")
                .values_list("chain_hash", flat=True).first())
    previous = GENESIS if previous is None else previous
    for row in rows:
        row.chain_hash = previous = row.compute_hash(previous)
    return TransitionLog.objects.bulk_create(rows)
