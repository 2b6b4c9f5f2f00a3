"""Gate escapes: per gate definition, the share of promises that passed it and still broke; and the
early warnings still open."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import OuterRef, Subquery

from promises.selectors import WORK_LIST_LIMIT, WorkList
from qualitygates.models import (
    GateDefinition,
    GateEscapeReason,
    GateEscapeTally,
    GateStep,
)

from .. import conf
from ..models import OPEN_IMPROVEMENT_STATES, ImprovementItem, ImprovementOrigin
from .figures import rate
from .improvements import improvement_visible_q


def gate_escapes(*, definition_ids: list[int] | None = None, top_reasons: int = 3) -> list[dict]:
    """Per gate definition (approval and delivery gates; a closure gate is decided after the outcome is
    known): promises that passed it, how many of them are verified, how many broke, the escape
    rate (broke / verified), the top reasons, and whether it is flagged. Two queries, over the gate
    escape tallies (qualitygates/summaries.py) rather than every review."""
    threshold = Decimal(str(conf.get("KVP_GATE_ESCAPE_THRESHOLD")))
    min_verified = conf.get("KVP_GATE_ESCAPE_MIN_PASSED")
    qs = GateDefinition.objects.exclude(step=GateStep.CLOSURE)
    if definition_ids is not None:
        qs = qs.filter(pk__in=definition_ids)
    tallies = GateEscapeTally.objects.filter(definition__in=qs, passed__gt=0)
    rows = list(qs.filter(pk__in=tallies.values("definition_id"))
                .annotate(passed=Subquery(tallies.filter(definition_id=OuterRef("pk")).values("passed")),
                          verified=Subquery(tallies.filter(definition_id=OuterRef("pk")).values("verified")),
                          escaped=Subquery(tallies.filter(definition_id=OuterRef("pk")).values("escaped")))
                .select_related("plan__category").order_by("plan__category__name", "plan__version", "order", "id"))
    reasons: dict[int, list[dict]] = {}
    for r in (GateEscapeReason.objects.filter(definition_id__in=[d.pk for d in rows], escaped__gt=0)
              .order_by("definition_id", "-escaped", "reason").values_list("definition_id", "reason", "escaped")):
        bucket = reasons.setdefault(r[0], [])
        if len(bucket) < top_reasons:
            bucket.append({"reason": r[1], "count": r[2]})
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
