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

from .models import (
    STEP_ORDER,
    CriterionKind,
    GateCheck,
    GatePlan,
    GateReview,
    GateStep,
    ReviewState,
    WorkingCalendar,
)
from .summaries import gate_summaries_record_pass
from .writes import ChangeWrites

ACTIVE_REVIEW_STATES = [ReviewState.PENDING, ReviewState.OPEN, ReviewState.ON_HOLD]


def review_transition(review: GateReview, action: str, *, actor, at: dt.datetime, trail_comment: str = "",
                      writes: ChangeWrites | None = None, also_save: Sequence[str] = (), **kwargs) -> None:
    """Run one FSM transition of the review (`kwargs` go to it), save the fields it changed (and
    `also_save`) and write its trail row at `at`, or hand the row to `writes`."""
    before = review.state
    fields_before = {f.attname: getattr(review, f.attname) for f in review._meta.concrete_fields}
    try:
        getattr(review, action)(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(_("A gate review in state '%(state)s' cannot %(action)s.")
                                % {"state": before, "action": action}) from exc
    changed = [name for name, value in fields_before.items() if getattr(review, name) != value]
    # The UPDATE is still conditional on the state it was read in (ConcurrentTransitionMixin).
    review.save(update_fields=[*changed, *also_save])
    row = TransitionLog(subject=TrailSubject.GATE, promise_id=review.promise_id, gate_review=review, action=action,
                        from_state=before, to_state=review.state, actor=actor, comment=trail_comment, at=at)
    if writes is None:
        row.save()
    else:
        writes.trail.append(row)
    if review.state == ReviewState.PASSED:
        gate_summaries_record_pass(review)


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


def next_pending_review(*, promise_id: int, step: str) -> GateReview | None:
    """The first pending gate of a step in the promise's latest round, with `has_evidence_checks` (its
    evidence criteria need pre-filling) and `has_calendar` (its team keeps a working calendar).

    Hand-written: every go reads it, and the ORM spent longer composing this query (an EXISTS
    subquery, the team's calendar) than the database spent answering it (bench/decisions.py)."""
    sql = (f"SELECT r.*, EXISTS (SELECT 1 FROM {GateCheck._meta.db_table} c WHERE c.review_id = r.id "  # noqa: S608
           f"AND c.kind = %s) AS has_evidence_checks, EXISTS (SELECT 1 FROM {WorkingCalendar._meta.db_table} w "
           f"WHERE w.team_id = r.owning_team_id) AS has_calendar FROM {GateReview._meta.db_table} r "
           f'WHERE r.promise_id = %s AND r.step = %s AND r.state = %s ORDER BY r.round DESC, r."order", r.id LIMIT 1')
    return next(iter(GateReview.objects.raw(sql, [CriterionKind.EVIDENCE, promise_id, step, ReviewState.PENDING])),
                None)


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
