"""Reads of the gate engine."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.ids import as_id

from .models import GateCheck, GatePlan, GateReview, WorkingCalendar
from .working_time import Calendar


def team_calendar(team_id: int) -> Calendar:
    calendar = WorkingCalendar.objects.filter(team_id=team_id).prefetch_related("closures").first()
    return Calendar.from_model(calendar) if calendar else Calendar()


def gate_plan_current(*, category_id: int) -> GatePlan | None:
    return GatePlan.objects.filter(category_id=category_id).order_by("-version").first()


def gate_review_list_for_user(*, user, states: list[str] | None = None) -> QuerySet[GateReview]:
    """Gates the user's teams own, open ones first by due time."""
    qs = (GateReview.objects.filter(owning_team__in=user.groups.all())
          .select_related("promise", "promise__owner", "promise__category", "owning_team", "decided_by"))
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("due_at", "id")


def gate_review_detail(*, review_id: int) -> GateReview | None:
    return (GateReview.objects.select_related("promise", "owning_team", "decided_by")
            .prefetch_related(Prefetch("checks", queryset=GateCheck.objects.order_by("order", "id")), "conditions")
            .filter(pk=as_id(review_id)).first())

