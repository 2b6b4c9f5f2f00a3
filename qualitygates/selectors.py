"""Reads of the gate engine."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from core.ids import as_id
from core.roles import is_manager, team_ids
from promises.selectors import gate_review_visible_q

from .models import GateCheck, GateCondition, GatePlan, GateReview, WorkingCalendar
from .working_time import Calendar


def team_calendar(team_id: int) -> Calendar:
    calendar = WorkingCalendar.objects.filter(team_id=team_id).prefetch_related("closures").first()
    return Calendar.from_model(calendar) if calendar else Calendar()


def gate_plan_current(*, category_id: int) -> GatePlan | None:
    return GatePlan.objects.filter(category_id=category_id).order_by("-version").first()


def gate_review_list_for_user(*, user, states: list[str] | None = None) -> QuerySet[GateReview]:
    """The work queue: gates the user's teams own, open ones first by due time (a manager's queue
    holds the gates of the manager's teams too, not every gate)."""
    # The team ids as values (read once per request, core.roles), not a subquery: the planner then walks
    # the open-queue index (team, due time) of each team instead of every open gate by due time.
    qs = (GateReview.objects.filter(owning_team_id__in=sorted(team_ids(user)))
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
