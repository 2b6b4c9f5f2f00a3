"""The managers' weekly KVP digest: open improvements, broken promises, overdue gates.

Beat runs it (feedback/tasks.py); the ISO week is part of the event's key, so a second run in the
same week records nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone, translation

from notifications.models import EventKind, OutboxEvent
from promises.models import PromiseState, ServicePromise, TrailSubject
from qualitygates.models import GateReview, ReviewState

from .events import feedback_event_record
from .models import OPEN_IMPROVEMENT_STATES, ImprovementItem, ImprovementState


def weekly_digest_figures(*, now: dt.datetime) -> dict:
    week_ago = now - dt.timedelta(days=7)
    broken = ServicePromise.objects.filter(state=PromiseState.BROKEN)
    broken_this_week = ServicePromise.objects.filter(
        trail__subject=TrailSubject.PROMISE, trail__to_state=PromiseState.BROKEN, trail__at__gte=week_ago, trail__at__lt=now).distinct()
    overdue = GateReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now)
    improvements = ImprovementItem.objects.filter(state__in=OPEN_IMPROVEMENT_STATES)
    return {
        "week_ending": now.date().isoformat(),
        "open_improvements": improvements.count(),
        "improvement_examples": [
            {"id": pk, "title": title, "state": state, "state_label": _untranslated_label(state)}
            for pk, title, state in improvements.order_by("created_at", "id").values_list("pk", "title", "state")[:10]
        ],
        "broken_open": broken.count(),
        "broken_this_week": broken_this_week.count(),
        "broken_examples": [
            {"id": p.pk, "title": p.title, "reason": p.outcome_reason[:200]}
            for p in broken_this_week.only("pk", "title", "outcome_reason").order_by("-pk")[:10]
        ],
        "overdue_gates": overdue.count(),
        "overdue_examples": [
            {"id": r.pk, "gate": r.name, "promise_id": r.promise_id, "due_at": r.due_at.isoformat()}
            for r in overdue.order_by("due_at")[:10]
        ],
        "link": "/dashboard/",
    }


def _untranslated_label(state: str) -> str:
    # The e-mail translates it into each manager's language when it is rendered.
    with translation.override(None):
        return str(ImprovementState(state).label)


def weekly_digest_send(*, now: dt.datetime | None = None) -> OutboxEvent:
    """Record this ISO week's digest for the managers (the one already recorded, on a second run)."""
    now = now or timezone.now()
    year, week, _ = timezone.localtime(now).isocalendar()
    with transaction.atomic():
        event, _ = feedback_event_record(kind=EventKind.WEEKLY_DIGEST, key=f"weekly_digest:{year}-W{week:02d}",
                                         payload=weekly_digest_figures(now=now), now=now)
    return event
