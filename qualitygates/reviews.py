"""Gate reviews as a promise's snapshot of its plan: created, copied for a new round, moved and
cancelled, each move in the trail. The engine (services.py) and the promise services call these
inside their transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from core.errors import IllegalTransition
from promises.models import ServicePromise, TrailSubject, TransitionLog

from .models import STEP_ORDER, GateCheck, GatePlan, GateReview, GateStep, ReviewState

ACTIVE_REVIEW_STATES = [ReviewState.PENDING, ReviewState.OPEN, ReviewState.ON_HOLD]


def review_transition(review: GateReview, action: str, *, actor, at: dt.datetime, trail_comment: str = "",
                      **kwargs) -> None:
    """Run one FSM transition of the review (`kwargs` go to it), save it and write its trail row at `at`."""
    before = review.state
    try:
        getattr(review, action)(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(_("A gate review in state '%(state)s' cannot %(action)s.")
                                % {"state": before, "action": action}) from exc
    review.save()
    TransitionLog.objects.create(
        subject=TrailSubject.GATE, promise_id=review.promise_id, gate_review=review, action=action,
        from_state=before, to_state=review.state, actor=actor, comment=trail_comment, at=at,
    )


def reviews_instantiate(*, promise: ServicePromise, plan: GatePlan, round_no: int) -> list[GateReview]:
    """Snapshot the plan's gates and criteria into pending reviews of this promise."""
    definitions = list(plan.definitions.prefetch_related("criteria").order_by("order", "id"))
    ordered = sorted(definitions, key=lambda d: (STEP_ORDER.index(d.step), d.order, d.id))
    reviews = GateReview.objects.bulk_create([
        GateReview(promise=promise, definition=d, round=round_no, order=i, name=d.name, name_de=d.name_de, step=d.step,
                   owning_team_id=d.owning_team_id, decision_hours=d.decision_hours)
        for i, d in enumerate(ordered, start=1)
    ])
    GateCheck.objects.bulk_create([
        GateCheck(review=review, criterion=c, order=c.order, text=c.text, text_de=c.text_de, requirement=c.requirement,
                  weight=c.weight, kind=c.kind, evidence_min_share=c.evidence_min_share)
        for review, d in zip(reviews, ordered, strict=True)
        for c in d.criteria.all()
    ])
    return reviews


def reviews_copy(*, promise: ServicePromise, source: Sequence[GateReview], round_no: int) -> list[GateReview]:
    """New pending reviews copied from earlier ones: a new round runs on the same snapshot."""
    sources = list(source)
    reviews = GateReview.objects.bulk_create([
        GateReview(promise=promise, definition_id=r.definition_id, round=round_no, order=r.order, name=r.name,
                   name_de=r.name_de, step=r.step, owning_team_id=r.owning_team_id, decision_hours=r.decision_hours)
        for r in sources
    ])
    checks = GateCheck.objects.filter(review__in=sources).order_by("review_id", "order", "id")
    by_source: dict[int, list[GateCheck]] = {}
    for check in checks:
        by_source.setdefault(check.review_id, []).append(check)
    GateCheck.objects.bulk_create([
        GateCheck(review=new, criterion_id=c.criterion_id, order=c.order, text=c.text, text_de=c.text_de,
                  requirement=c.requirement, weight=c.weight, kind=c.kind,
                  evidence_min_share=c.evidence_min_share)
        for old, new in zip(sources, reviews, strict=True)
        for c in by_source.get(old.pk, [])
    ])
    return reviews


def snapshot_reviews(promise: ServicePromise, *, step: GateStep | None = None) -> list[GateReview]:
    """The promise's first-round reviews: its snapshot of the plan it was submitted with."""
    qs = promise.gate_reviews.filter(round=1).order_by("order", "id")
    if step:
        qs = qs.filter(step=step)
    return list(qs)


def reviews_cancel_active(*, promise: ServicePromise, actor, comment: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    for review in promise.gate_reviews.filter(state__in=ACTIVE_REVIEW_STATES).order_by("order", "id"):
        review_transition(review, "cancel", actor=actor, trail_comment=comment, at=now)
