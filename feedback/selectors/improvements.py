"""Reads of the improvement items: the board's list, one item with its trail, the measured effect."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from core.ids import as_id
from core.roles import is_manager, team_ids
from promises.models import PromiseCategory
from promises.selectors import NOTHING, WORK_LIST_LIMIT, WorkList

from .. import conf
from ..models import Feedback, ImprovementItem, ImprovementState, ImprovementTarget, ImprovementTransition
from .figures import rate
from .intake import feedback_visible_q
from .summaries import Window, outcome_counts


def improvement_visible_q(user) -> Q:
    """The improvement items `user` may see: managers all (they run the board); anyone else the
    items they proposed or own, those motivated by a feedback they may see, and those that change
    or were raised by a gate of one of their teams."""
    if user is None or not user.is_authenticated:
        return NOTHING
    if is_manager(user):
        return Q()
    visible = (Q(proposed_by_id=user.pk) | Q(owner_id=user.pk)
               | Q(Exists(Feedback.objects.filter(feedback_visible_q(user), improvements=OuterRef("pk")))))
    teams = sorted(team_ids(user))
    if teams:
        visible |= Q(origin_definition__owning_team_id__in=teams) | Q(Exists(
            ImprovementItem.gate_definitions.through.objects.filter(
                improvementitem_id=OuterRef("pk"), gatedefinition__owning_team_id__in=teams)))
    return visible


def improvement_is_visible(*, user, item_id: int) -> bool:
    return ImprovementItem.objects.filter(improvement_visible_q(user), pk=as_id(item_id)).exists()


def improvement_effects(*, window_days: int | None = None, now: dt.datetime | None = None,
                        limit: int | None = None) -> list[dict]:
    """For every standardized item (the `limit` most recent ones, when given): the keep rate of its
    categories in equal windows before and after standardization, with the counts it rests on. Four
    queries whatever the number of items (the counts come from the day summaries)."""
    now = now or timezone.now()
    window = dt.timedelta(days=window_days or conf.get("KVP_EFFECT_WINDOW_DAYS"))
    items = (ImprovementItem.objects.filter(state=ImprovementState.STANDARDIZED)
             .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")))
             .order_by("-standardized_at", "-id"))
    items = list(items[:limit] if limit is not None else items)
    windows = []
    for item in items:
        at = item.standardized_at
        for category in item.categories.all():
            windows.append(Window(key=(item.pk, category.pk, "before"), category_id=category.pk, start=at - window, end=at))
            windows.append(Window(key=(item.pk, category.pk, "after"), category_id=category.pk, start=at, end=at + window))
    counts = outcome_counts(windows)
    result = []
    for item in items:
        sides = {}
        for side in ("before", "after"):
            kept = sum(counts[(item.pk, c.pk, side)]["kept"] for c in item.categories.all())
            broken = sum(counts[(item.pk, c.pk, side)]["broken"] for c in item.categories.all())
            sides[side] = {"kept": kept, "broken": broken, "keep_rate": rate(kept, kept + broken)}
        rate_before, rate_after = sides["before"]["keep_rate"], sides["after"]["keep_rate"]
        result.append({
            "item": item,
            "categories": [c.name for c in item.categories.all()],
            "standardized_at": item.standardized_at,
            "window_days": window.days,
            "after_window_complete": item.standardized_at + window <= now,
            "before": sides["before"],
            "after": sides["after"],
            "change": (rate_after - rate_before) if rate_before is not None and rate_after is not None else None,
        })
    return result


def _targets() -> Prefetch:
    return Prefetch("targets", queryset=ImprovementTarget.objects.select_related("metric")
                    .prefetch_related("categories").order_by("order", "id"))


def improvement_list(*, user, states: list[str] | None = None) -> QuerySet[ImprovementItem]:
    qs = (ImprovementItem.objects.filter(improvement_visible_q(user))
          .select_related("owner", "proposed_by", "origin_category")
          .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")), _targets()))
    if states:
        qs = qs.filter(state__in=states)
    return qs.order_by("-created_at", "-id")


def improvement_detail(*, user, item_id: int) -> ImprovementItem | None:
    """An item with its categories, the feedback the user may see, gates and trail: a fixed number
    of queries. None when it does not exist or is outside the user's scope."""
    return (ImprovementItem.objects.filter(improvement_visible_q(user)).select_related("owner", "proposed_by")
            .prefetch_related(Prefetch("categories", queryset=PromiseCategory.objects.order_by("name")),
                              Prefetch("feedback", queryset=Feedback.objects.filter(feedback_visible_q(user))),
                              "gate_definitions", _targets(),
                              Prefetch("trail", queryset=ImprovementTransition.objects.select_related("actor")
                                       .order_by("at", "id")))
            .filter(pk=as_id(item_id)).first())


def improvements_awaiting_decision(*, user, limit: int = WORK_LIST_LIMIT) -> WorkList:
    """Proposed improvements the user may see, waiting for a manager to accept or reject them, oldest
    first. Two queries."""
    qs = ImprovementItem.objects.filter(improvement_visible_q(user), state=ImprovementState.PROPOSED)
    count = qs.count()
    items = list(qs.select_related("origin_category").order_by("created_at", "id")[:limit]) if count else []
    return WorkList(key="awaiting_decision", count=count, items=items)
