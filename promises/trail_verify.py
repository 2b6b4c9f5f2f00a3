"""Reading the trail's hash chains back (`manage.py verify_trail`): which promise's history was
changed or cut behind the application's back, and from which row on."""

from __future__ import annotations

from dataclasses import dataclass

from .models import TransitionLog
from .trail_chain import GENESIS


@dataclass(frozen=True)
class TrailBreak:
    promise_id: int
    row_id: int
    reason: str


def trail_chain_breaks() -> tuple[int, list[TrailBreak]]:
    """Recompute every promise's hash chain: (rows checked, the first broken row of each broken promise).
    Streams the trail in (promise, id) order, so memory stays flat however long it is."""
    previous: dict[int, str] = {}
    broken: dict[int, TrailBreak] = {}
    checked = 0
    for row in TransitionLog.objects.order_by("promise_id", "id").iterator(chunk_size=2000):
        checked += 1
        if row.promise_id in broken:
            continue
        expected = row.compute_hash(previous.get(row.promise_id, GENESIS))
        if row.chain_hash != expected:
            reason = ("no hash" if not row.chain_hash
                      else "its hash does not match the row and the row before it (changed, or a row removed)")
            broken[row.promise_id] = TrailBreak(promise_id=row.promise_id, row_id=row.pk, reason=reason)
        previous[row.promise_id] = row.chain_hash
    return checked, list(broken.values())
