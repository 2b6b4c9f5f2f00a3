"""Keeping the promises' summary rows in step with their transitions (called by
`promises.transitions.apply_promise_transition`, inside the transition's transaction, while the promise's
row is locked): a promise leaving its draft counts as made on the day it was created; a verification
counts it kept or broken on the day it was verified (and its reason); reopening a verification takes
that back. The gate escapes of the gates it passed move with its outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.tallies import tally_add
from qualitygates.summaries import gate_escapes_count_outcome

from .models import BrokenReasonDay, PromiseDay, PromiseState, ServicePromise


@dataclass(frozen=True)
class Outcome:
    """What a promise's summary rows depend on, read before and after a transition."""

    state: str
    verified_at: dt.datetime | None
    kept: bool | None
    reason: str

    @classmethod
    def of(cls, promise: ServicePromise) -> Outcome:
        verified = promise.actual_value is not None and promise.verified_at is not None
        return cls(state=promise.state, verified_at=promise.verified_at if verified else None,
                   kept=promise.kept if verified else None, reason=promise.outcome_reason)


def utc_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def promise_summaries_apply(promise: ServicePromise, *, before: Outcome) -> None:
    """Move the summary rows from what `before` counted to what the promise counts now."""
    after = Outcome.of(promise)
    if before.state == PromiseState.DRAFT and after.state != PromiseState.DRAFT:
        tally_add(PromiseDay._meta.db_table, key={"category_id": promise.category_id,
                                                   "day": utc_day(promise.created_at)}, deltas={"made": 1})
    if (before.verified_at, before.kept, before.reason) == (after.verified_at, after.kept, after.reason):
        return
    if before.verified_at is not None:
        _count_outcome(promise, before, sign=-1)
    if after.verified_at is not None:
        _count_outcome(promise, after, sign=1)


def promise_summaries_reason_changed(*, promise_id: int, old_reason: str) -> None:
    """A verified promise's outcome reason was rewritten outside a transition (a personal-data erasure):
    move its counts from the old reason to the new one."""
    promise = ServicePromise.objects.get(pk=promise_id)
    now = Outcome.of(promise)
    promise_summaries_apply(promise, before=Outcome(state=now.state, verified_at=now.verified_at, kept=now.kept,
                                                    reason=old_reason))


def _count_outcome(promise: ServicePromise, outcome: Outcome, *, sign: int) -> None:
    day = utc_day(outcome.verified_at)
    tally_add(PromiseDay._meta.db_table, key={"category_id": promise.category_id, "day": day},
              deltas={"kept" if outcome.kept else "broken": sign})
    if not outcome.kept and outcome.reason:
        tally_add(BrokenReasonDay._meta.db_table,
                  key={"category_id": promise.category_id, "day": day, "reason": outcome.reason},
                  deltas={"broken": sign})
    gate_escapes_count_outcome(promise_id=promise.pk, broken=not outcome.kept, reason=outcome.reason, sign=sign)


__all__ = ["Outcome", "promise_summaries_apply"]
