"""Gate escapes: per gate definition, the share of promises that passed it and still broke; and the
early warnings still open."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q

from promises.outcomes import broken_q
from promises.selectors import WORK_LIST_LIMIT, WorkList
from qualitygates.models import GateDefinition, GateReview, GateStep, ReviewState

from .. import conf
from ..models import OPEN_IMPROVEMENT_STATES, ImprovementItem, ImprovementOrigin
from .figures import rate
from .improvements import improvement_visible_q


def gate_escapes(*, definition_ids: list[int] | None = None, top_reasons: int = 3) -> list[dict]:
    """Per gate definition (approval and delivery gates; a closure gate is decided after the outcome is
    known): promises that passed it, how many of them are verified, how many broke, the escape
    rate (broke / verified), the top reasons, and whether it is flagged. Two queries."""
    threshold = Decimal(str(conf.get("KVP_GATE_ESCAPE_THRESHOLD")))
    min_verified = conf.get("KVP_GATE_ESCAPE_MIN_PASSED")
    passed = Q(reviews__state=ReviewState.PASSED)
    qs = GateDefinition.objects.exclude(step=GateStep.CLOSURE)
    if definition_ids is not None:
        qs = qs.filter(pk__in=definition_ids)
    rows = list(qs.annotate(
        passed=Count("reviews__promise", filter=passed, distinct=True),
        verified=Count("reviews__promise", filter=passed & Q(reviews__promise__actual_value__isnull=False,
                                                             reviews__promise__verified_at__isnull=False),
                       distinct=True),
        escaped=Count("reviews__promise", filter=passed & broken_q("reviews__promise__"), distinct=True),
    ).filter(passed__gt=0).select_related("plan__category").order_by("plan__category__name", "plan__version",
                                                                      "order", "id"))
    reasons: dict[int, list[dict]] = {}
    for r in (GateReview.objects.filter(broken_q("promise__"), state=ReviewState.PASSED,
                                        definition_id__in=[d.pk for d in rows])
              .exclude(promise__outcome_reason="")
              .values("definition_id", "promise__outcome_reason")
              .annotate(n=Count("promise", distinct=True))
              .order_by("definition_id", "-n", "promise__outcome_reason")):
        bucket = reasons.setdefault(r["definition_id"], [])
        if len(bucket) < top_reasons:
            bucket.append({"reason": r["promise__outcome_reason"], "count": r["n"]})
    result = []
    for d in rows:
        escape_rate = rate(d.escaped, d.verified)
        result.append({
            "definition_id": d.pk, "definition": d, "gate": d.name, "category": d.plan.category.name,
            "plan_version": d.plan.version, "passed": d.passed, "verified": d.verified, "escaped": d.escaped,
            "escape_rate": escape_rate, "top_reasons": reasons.get(d.pk, []),
            "flagged": escape_rate is not None and d.verified >= min_verified and escape_rate > threshold,
        })
    return result


def early_warnings_open(*, user, limit: int = WORK_LIST_LIMIT) -> WorkList:
    """The open improvements the product proposed itself (a category's break rate, a gate's escapes)
    that the user may see, newest first: the early warnings on a manager's home. Two queries."""
    qs = ImprovementItem.objects.filter(
        improvement_visible_q(user), state__in=OPEN_IMPROVEMENT_STATES,
        origin__in=[ImprovementOrigin.EARLY_WARNING, ImprovementOrigin.GATE_ESCAPE])
    count = qs.count()
    items = list(qs.select_related("origin_category", "origin_definition").order_by("-created_at", "-id")[:limit]) \
        if count else []
    return WorkList(key="early_warnings", count=count, items=items)
