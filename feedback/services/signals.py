"""Automatic proposals: a category's early warning and a gate's escapes each propose an improvement,
once while that proposal is open, and tell the managers via the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import EventKind
from promises.models import PromiseCategory, ServicePromise
from promises.outcomes import broken_q
from qualitygates.models import GateDefinition

from .. import conf
from ..models import OPEN_IMPROVEMENT_STATES, Feedback, FeedbackKind, ImprovementItem, ImprovementOrigin
from ..selectors.signals import gate_escapes
from .improvements import improvement_proposal_record


def early_warning_check(*, category_id: int, now: dt.datetime | None = None) -> ImprovementItem | None:
    """Propose an improvement when a category's break rate over its last N verified promises passes
    the threshold — once: not again while that proposal is open. Managers are told via the outbox."""
    now = now or timezone.now()
    window = conf.get("KVP_EARLY_WARNING_WINDOW")
    threshold = Decimal(str(conf.get("KVP_EARLY_WARNING_THRESHOLD")))
    # Serialise checks of one category so two breaks at once cannot both propose.
    category = PromiseCategory.objects.select_for_update().get(pk=category_id)
    if ImprovementItem.objects.filter(origin=ImprovementOrigin.EARLY_WARNING, origin_category=category,
                                      state__in=OPEN_IMPROVEMENT_STATES).exists():
        return None
    last = (ServicePromise.objects.filter(category=category, verified_at__isnull=False, actual_value__isnull=False)
            .annotate(is_broken=Case(When(broken_q(), then=Value(1)), default=Value(0), output_field=IntegerField()))
            .order_by("-verified_at", "-id")[:window])
    figures = last.aggregate(n=Count("pk"), broken=Sum("is_broken"))
    n, broken = figures["n"] or 0, figures["broken"] or 0
    if n < window or Decimal(broken) / n <= threshold:
        return None
    rate = Decimal(broken) / n
    item = ImprovementItem.objects.create(
        created_at=now, title=_("Early warning: %(category)s broke %(broken)d of its last %(n)d promises") % {
            "category": category.name, "broken": broken, "n": n},
        description=_("The break rate %(rate)s%% passed the threshold of %(threshold)s%%. Find the cause and "
                      "improve the promises or the gates of this category.") % {
            "rate": f"{rate * 100:.0f}", "threshold": f"{threshold * 100:.0f}"},
        origin=ImprovementOrigin.EARLY_WARNING, origin_category=category,
    )
    item.categories.add(category)
    item.feedback.add(*Feedback.objects.filter(
        kind=FeedbackKind.BROKEN_PROMISE, promise__in=last.values("pk")).values_list("pk", flat=True))
    improvement_proposal_record(item, actor=None, now=now, kind=EventKind.EARLY_WARNING,
                                extra={"category": category.pk, "broken": broken, "window": n,
                                       "break_rate": f"{rate:.3f}", "threshold": f"{threshold:.3f}"})
    return item


def gate_escape_check(*, definition_ids: Iterable[int], now: dt.datetime | None = None) -> list[ImprovementItem]:
    """Flag gates whose escape rate passes the threshold: each proposes an improvement of its criteria
    (once while one is open) and managers are told via the outbox."""
    now = now or timezone.now()
    ids = sorted(set(definition_ids))
    if not ids:
        return []
    proposed = []
    for row in gate_escapes(definition_ids=ids):
        if not row["flagged"]:
            continue
        definition = GateDefinition.objects.select_for_update().select_related("plan").get(pk=row["definition_id"])
        if ImprovementItem.objects.filter(origin=ImprovementOrigin.GATE_ESCAPE, origin_definition=definition,
                                          state__in=OPEN_IMPROVEMENT_STATES).exists():
            continue
        item = ImprovementItem.objects.create(
            created_at=now, title=_("Gate without teeth: %(gate)s lets %(escaped)d of %(passed)d promises through that broke") % {
                "gate": definition.name, "escaped": row["escaped"], "passed": row["passed"]},
            description=_("Sharpen the criteria of the gate '%(gate)s' (plan %(plan)s). Top reasons: %(reasons)s")
            % {"gate": definition.name, "plan": str(definition.plan),
               "reasons": "; ".join(r["reason"] for r in row["top_reasons"]) or "-"},
            origin=ImprovementOrigin.GATE_ESCAPE, origin_definition=definition,
        )
        item.gate_definitions.add(definition)
        item.categories.add(definition.plan.category_id)
        improvement_proposal_record(item, actor=None, now=now, kind=EventKind.GATE_ESCAPE_FLAGGED,
                                    extra={"definition": definition.pk, "gate": definition.name,
                                           "passed": row["passed"], "escaped": row["escaped"],
                                           "escape_rate": f"{row['escape_rate']:.3f}"})
        proposed.append(item)
    return proposed
