"""Reads of the gate engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotAllowed
from core.ids import as_id
from core.roles import is_manager, is_member, team_ids
from promises.models import ServicePromise
from promises.selectors import WORK_LIST_LIMIT, WorkList, gate_review_visible_q, promise_visible_q

from .error_codes import GateErrorCode
from .models import (
    GateCheck,
    GateCondition,
    GateDefinition,
    GatePlan,
    GateReview,
    ReviewState,
    WorkingCalendar,
)
from .working_time import Calendar, working_seconds_between

CONDITION_OWNER_CHOICES = 200


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


def gate_review_decided(review: GateReview, *, checks: Sequence[GateCheck],
                        conditions: Sequence[GateCondition]) -> GateReview:
    """A review its decision has just written, as gate_review_detail would read it back: the decision
    already holds its promise, team, checks and conditions, so the answer needs no second read."""
    review._prefetched_objects_cache = {
        "checks": _loaded(GateCheck.objects.filter(review=review), sorted(checks, key=lambda c: (c.order, c.pk))),
        "conditions": _loaded(GateCondition.objects.filter(review=review),
                              sorted(conditions, key=lambda c: (c.due_at, c.pk))),
    }
    return review


def _loaded(queryset: QuerySet, rows: Sequence) -> QuerySet:
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    return queryset


def gate_review_is_visible(*, user, review_id: int) -> bool:
    return GateReview.objects.filter(gate_review_visible_q(user), pk=as_id(review_id)).exists()


def gate_condition_is_visible(*, user, condition_id: int) -> bool:
    """A condition is visible with its gate review, and to the person who has to meet it."""
    visible = gate_review_visible_q(user, prefix="review__")
    if user is not None and user.is_authenticated and not is_manager(user):
        # Q() | X would narrow "everything" to X: a manager's Q() stays as it is.
        visible |= Q(owner_id=user.pk)
    return GateCondition.objects.filter(visible, pk=as_id(condition_id)).exists()


# --- who may decide, the gate queue and the decision page (the product's pages) -------------------

def gate_decider_refusal(user, *, review: GateReview, promise_owner_id: int) -> NotAllowed | None:
    """Who may decide a gate, the one rule the engine enforces (services.gate_decide raises this)
    and the pages offer Decide by (None: the user may): a member of the owning team, never on a
    promise they own (four-eyes). No query: a user's teams are cached for the request."""
    if not is_member(user, review.owning_team_id):
        return NotAllowed(
            _("Only members of the owning team '%(team)s' may decide the gate '%(gate)s'.")
            % {"team": review.owning_team.name, "gate": review.display_name},
            code=GateErrorCode.NOT_GATE_TEAM,
        )
    if promise_owner_id == user.pk:
        return NotAllowed(_("Four-eyes rule: nobody decides a gate on a promise they own."),
                          code=GateErrorCode.FOUR_EYES)
    return None


def gate_may_decide(user, *, owning_team_id: int, promise_owner_id: int) -> bool:
    """The same rule as a yes/no for lists (queue rows, the promise page's gates): no query."""
    return is_member(user, owning_team_id) and promise_owner_id != user.pk


def gate_queue_teams(*, user) -> list[Group]:
    """The teams whose gates the user's queue may show: a manager, every team that owns a gate;
    anyone else, their own teams that do. One query."""
    owns_gates = Exists(GateDefinition.objects.filter(owning_team_id=OuterRef("pk")))
    teams = Group.objects.filter(owns_gates)
    if not is_manager(user):
        teams = teams.filter(pk__in=sorted(team_ids(user)))
    return list(teams.order_by("name", "id"))


def gate_queue(*, user, team_id: int | None = None, state: str = ReviewState.OPEN) -> QuerySet[GateReview]:
    """Gates waiting in the queue of the user's teams (a manager's: every team's), soonest due
    first, so overdue ones lead; `team_id` narrows it to one of those teams. Slice or paginate it:
    each row carries what the row shows (promise, customer, team) in the same query."""
    teams = None if is_manager(user) else team_ids(user)
    if team_id is not None:
        teams = {team_id} & teams if teams is not None else {team_id}
    qs = GateReview.objects.filter(state=state)
    if teams is not None:
        qs = qs.filter(owning_team_id__in=sorted(teams)) if teams else qs.none()
    order = ("due_at", "id") if state == ReviewState.OPEN else ("hold_started_at", "id")
    return qs.select_related("promise", "promise__customer", "owning_team").order_by(*order)


def gate_overdue_count(*, user, team_id: int | None = None, now: dt.datetime | None = None) -> int:
    return gate_queue(user=user, team_id=team_id).filter(due_at__lt=now or timezone.now()).count()


def team_calendars(team_ids_: set[int] | list[int]) -> dict[int, Calendar]:
    """The working calendars of several teams at once (two queries); a team without one works the default."""
    calendars = {c.team_id: Calendar.from_model(c) for c in
                 WorkingCalendar.objects.filter(team_id__in=sorted(set(team_ids_))).prefetch_related("closures")}
    return {team_id: calendars.get(team_id, Calendar()) for team_id in team_ids_}


@dataclass(frozen=True)
class TimeLeft:
    """A gate's time to its due moment in the owning team's working time: negative when overdue;
    `paused` while on hold (the clock is stopped at what was left). `working_day` is the length of
    the team's working day in seconds, so that a day in the badge is a working day."""

    seconds: int
    working_day: int
    paused: bool = False

    @property
    def overdue(self) -> bool:
        return not self.paused and self.seconds < 0


def gate_time_left(review: GateReview, calendar: Calendar, *, now: dt.datetime | None = None) -> TimeLeft | None:
    """How much working time is left before the gate is due (no query)."""
    day = dt.datetime.combine(dt.date(2000, 1, 3), calendar.day_ends) - dt.datetime.combine(
        dt.date(2000, 1, 3), calendar.day_starts)
    working_day = max(int(day.total_seconds()), 60)
    if review.state == ReviewState.ON_HOLD:
        if review.remaining_seconds_at_hold is None:
            return None
        return TimeLeft(seconds=review.remaining_seconds_at_hold, working_day=working_day, paused=True)
    if review.due_at is None:
        return None
    now = now or timezone.now()
    return TimeLeft(seconds=int(working_seconds_between(now, review.due_at, calendar)), working_day=working_day)


def gate_review_for_decision(*, user, review_id: int) -> GateReview | None:
    """One gate review with what its decision page shows: the promise's commitment, customer and
    maker, the checks in order. None when the review does not exist or its promise is outside the
    user's scope (a 404); whether the user may decide it is `gate_decider_refusal`'s question (a 403).
    Three queries."""
    return (GateReview.objects.filter(promise__in=ServicePromise.objects.filter(promise_visible_q(user)))
            .select_related("promise", "promise__customer", "promise__owner", "promise__metric",
                            "promise__category", "owning_team", "decided_by")
            .prefetch_related(Prefetch("checks", queryset=GateCheck.objects.order_by("order", "id")),
                              Prefetch("conditions", queryset=GateCondition.objects.select_related("owner")))
            .filter(pk=as_id(review_id)).first())


def gate_decisions_of_promise(*, user, review: GateReview) -> list[GateReview]:
    """The promise's other decided gates the user may see (earlier rounds, earlier gates), oldest
    first, with their deciders: one query."""
    return list(GateReview.objects.filter(gate_review_visible_q(user), promise_id=review.promise_id)
                .exclude(pk=review.pk).exclude(decided_at__isnull=True)
                .select_related("decided_by", "owning_team").order_by("round", "order", "decided_at", "id"))


def gate_condition_owner_choices(*, review: GateReview) -> QuerySet:
    """Who may be given a condition of a conditional go: the promise's owner and the members of the
    gate's team, active ones. One query, bounded."""
    return (get_user_model().objects.filter(Q(pk=review.promise.owner_id) | Q(groups__pk=review.owning_team_id),
                                            is_active=True)
            .distinct().order_by("username")[:CONDITION_OWNER_CHOICES])
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
