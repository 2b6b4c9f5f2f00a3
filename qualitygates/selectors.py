"""Reads of the gate engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from core.ids import as_id
from core.roles import is_manager, team_ids
from promises.selectors import WORK_LIST_LIMIT, WorkList, gate_review_visible_q

from .models import GateCheck, GateCondition, GatePlan, GateReview, ReviewState, WorkingCalendar
from .working_time import Calendar


def team_calendar(team_id: int) -> Calendar:
    calendar = WorkingCalendar.objects.filter(team_id=team_id).prefetch_related("closures").first()
    return Calendar.from_model(calendar) if calendar else Calendar()


def gate_plan_current(*, category_id: int) -> GatePlan | None:
    return GatePlan.objects.filter(category_id=category_id).order_by("-version").first()


def gate_review_list_for_user(*, user, states: list[str] | None = None) -> QuerySet[GateReview]:
    """The work queue: gates the user's teams own, open ones first by due time (a manager's queue
    holds the gates of the manager's teams too, not every gate)."""
    qs = (GateReview.objects.filter(owning_team__in=user.groups.all())
          .select_related("promise", "promise__owner", "promise__category", "owning_team", "decided_by"))
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("due_at", "id")


def gate_review_detail(*, user, review_id: int) -> GateReview | None:
    """One gate review, or None when it does not exist or is outside the user's scope."""
    return (GateReview.objects.filter(gate_review_visible_q(user))
            .select_related("promise", "owning_team", "decided_by")
            .prefetch_related(Prefetch("checks", queryset=GateCheck.objects.order_by("order", "id")), "conditions")
            .filter(pk=as_id(review_id)).first())



def gate_review_is_visible(*, user, review_id: int) -> bool:
    return GateReview.objects.filter(gate_review_visible_q(user), pk=as_id(review_id)).exists()


def gate_condition_is_visible(*, user, condition_id: int) -> bool:
    """A condition is visible with its gate review, and to the person who has to meet it."""
    visible = gate_review_visible_q(user, prefix="review__")
    if user is not None and user.is_authenticated and not is_manager(user):
        # Q() | X would narrow "everything" to X: a manager's Q() stays as it is.
        visible |= Q(owner_id=user.pk)
    return GateCondition.objects.filter(visible, pk=as_id(condition_id)).exists()


# --- my work (the home page) ---------------------------------------------------------------------

@dataclass(frozen=True)
class GateWorkList(WorkList):
    """Open gates, with how many of them are overdue."""

    overdue: int = 0


def gate_work_open(*, user, now: dt.datetime | None = None, teams_only: bool = True, overdue_only: bool = False,
                   limit: int = WORK_LIST_LIMIT) -> GateWorkList:
    """Open gates the user may see, overdue first and then by due time (each with its `time_left`,
    negative when overdue), with the count of all of them and of the overdue ones. `teams_only`: the gates of
    the user's own teams (a gatekeeper's work); else every gate in scope (a manager's overview). Two
    queries, whatever the number of gates."""
    now = now or timezone.now()
    qs = GateReview.objects.filter(gate_review_visible_q(user), state=ReviewState.OPEN)
    if teams_only:
        qs = qs.filter(owning_team_id__in=sorted(team_ids(user)))
    if overdue_only:
        qs = qs.filter(due_at__lt=now)
    counts = qs.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    items = list(qs.select_related("promise", "promise__customer", "owning_team")
                 .order_by(F("due_at").asc(nulls_last=True), "id")[:limit]) if counts["total"] else []
    for review in items:
        review.time_left = review.due_at - now if review.due_at else None
    return GateWorkList(key="overdue_gates" if overdue_only else "open_gates", count=counts["total"],
                        items=items, overdue=counts["overdue"])
