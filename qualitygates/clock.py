"""The gates' clock: reminders before a gate's due time, overdue notices and escalations after it.

Beat runs it (qualitygates/tasks.py). Each event carries its period in its key, so a schedule
that fires twice (two beats, a restart) still notifies once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import EventKind

from .events import gate_event_record
from .models import GateReview, ReviewState, WorkingCalendar
from .working_time import Calendar, working_seconds_between


def _calendars(team_ids: set[int]) -> dict[int, Calendar]:
    found = {c.team_id: Calendar.from_model(c)
             for c in WorkingCalendar.objects.filter(team_id__in=team_ids).prefetch_related("closures")}
    return {team_id: found.get(team_id, Calendar()) for team_id in team_ids}


def gate_reviews_open_not_due(*, now: dt.datetime) -> list[tuple[GateReview, Calendar]]:
    """Open gates not yet due, each with its team's working calendar (one query for all calendars)."""
    reviews = list(GateReview.objects.filter(state=ReviewState.OPEN, due_at__gt=now)
                   .select_related("promise").order_by("due_at", "id"))
    calendars = _calendars({r.owning_team_id for r in reviews})
    return [(r, calendars[r.owning_team_id]) for r in reviews]


def gate_reviews_overdue(*, now: dt.datetime) -> list[GateReview]:
    return list(GateReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now)
                .select_related("promise").order_by("due_at", "id"))


def gate_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the owning team of each open gate that has used up its share of decision time
    (NOTIFICATIONS_REMINDER_AT, 80 %), counted in the team's working time. Once per due time."""
    now = now or timezone.now()
    share = float(getattr(settings, "NOTIFICATIONS_REMINDER_AT", 0.8))
    sent = 0
    for review, calendar in gate_reviews_open_not_due(now=now):
        limit = review.decision_hours * 3600
        remaining = working_seconds_between(now, review.due_at, calendar)
        if remaining > limit * (1 - share):
            continue
        with transaction.atomic():
            _, created = gate_event_record(
                kind=EventKind.GATE_DUE_SOON, promise=review.promise, gate_review=review, now=now,
                key=f"gate_due_soon:{review.pk}:{review.due_at.isoformat()}",
                payload={"due_at": review.due_at.isoformat(), "team_id": review.owning_team_id,
                         "remaining_hours": round(remaining / 3600, 1)})
        sent += created
    return sent


def gate_escalations_send(*, now: dt.datetime | None = None) -> int:
    """Each open gate past its due time: the team hears it is overdue once; the managers get an
    escalation now and again every 24 hours while it stays overdue."""
    now = now or timezone.now()
    sent = 0
    for review in gate_reviews_overdue(now=now):
        period = int((now - review.due_at) // dt.timedelta(days=1))
        payload = {"due_at": review.due_at.isoformat(), "team_id": review.owning_team_id, "overdue_days": period}
        with transaction.atomic():
            gate_event_record(kind=EventKind.GATE_OVERDUE, promise=review.promise, gate_review=review,
                              payload=payload, now=now, key=f"gate_overdue:{review.pk}:{review.due_at.isoformat()}")
            _, created = gate_event_record(
                kind=EventKind.GATE_ESCALATED, promise=review.promise, gate_review=review, payload=payload, now=now,
                key=f"gate_escalated:{review.pk}:{review.due_at.isoformat()}:{period}")
        sent += created
    return sent
