"""What one change of a promise's gates appends besides its own rows: trail rows and outbox events.

A decision collects them as it goes and writes them at the end of its transaction: the trail in one
INSERT after one read of the previous hash (promises.trail.trail_append), the outbox in one INSERT
with one broker message after commit (notifications.services.events_record). Whoever writes a row
that must come after them in the trail (a promise transition) flushes first."""

from __future__ import annotations

from notifications.services import NewEvent, events_record
from promises.models import TransitionLog
from promises.trail import trail_append


class ChangeWrites:
    def __init__(self) -> None:
        self.trail: list[TransitionLog] = []
        self.events: list[NewEvent] = []

    def flush(self) -> None:
        """Write what was collected; the caller holds the promise's row lock."""
        trail, events = self.trail, self.events
        self.trail, self.events = [], []
        trail_append(trail)
        events_record(events)
