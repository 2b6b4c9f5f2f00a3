"""The product measures an improvement target itself where it holds the data: over the target's scope
(categories, a gate, a feedback channel) and a window that has already happened. Each measurement
carries the counts it rests on, so a figure from three promises does not pass for one from three hundred.

Also the direction rules every target shares: a target improves on its baseline in its metric's
direction, and a measured value reaches the target in that direction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from django.db import connection
from django.db.models import Avg, Count, DecimalField, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from promises.models import Metric, MetricDirection, ServicePromise
from promises.outcomes import broken_q, kept_q, verified_q
from qualitygates.models import GateDefinition, GateReview, ReviewState
from qualitygates.selectors import team_calendar
from qualitygates.working_time import working_seconds_between

from ..error_codes import FeedbackErrorCode
from ..models import Feedback, ImprovementTarget, TargetMeasure
from .figures import rate
from .guidance import Median

M = TargetMeasure
PLACES = Decimal("0.001")


def improves(direction: str, *, baseline: Decimal, target: Decimal) -> bool:
    """A target is a change for the better in the metric's direction."""
    return target < baseline if direction == MetricDirection.LOWER_IS_BETTER else target > baseline


def reaches(direction: str, *, value: Decimal, target: Decimal) -> bool:
    return value <= target if direction == MetricDirection.LOWER_IS_BETTER else value >= target


@dataclass(frozen=True)
class Scope:
    """Where a target is measured: categories (none: all), a gate definition, a feedback channel and,
    for a count, the feedback kind counted."""

    category_ids: tuple[int, ...] = ()
    gate_definition: GateDefinition | None = None
    channel: str = ""
    feedback_kind: str = ""

    @classmethod
    def of(cls, target: ImprovementTarget) -> Scope:
        return cls(category_ids=tuple(c.pk for c in target.categories.all()), gate_definition=target.gate_definition,
                   channel=target.channel, feedback_kind=target.feedback_kind)


@dataclass(frozen=True)
class Measurement:
    measure: str
    value: Decimal | None
    counts: dict[str, int] = field(default_factory=dict)
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None


def measurement_window(*, window_days: int, until: dt.datetime, now: dt.datetime | None = None
                       ) -> tuple[dt.datetime, dt.datetime]:
    """The window of `window_days` ending at `until`. A window that has not happened yet is refused:
    the product measures what happened, not what is hoped for."""
    now = now or timezone.now()
    if until > now:
        raise ValidationFailed(
            _("A measurement window must lie in the past: it ends %(until)s, after now.") % {
                "until": until.date().isoformat()},
            code=FeedbackErrorCode.MEASUREMENT_WINDOW_IN_FUTURE,
            fields={"until": _("must not lie in the future (a measurement covers what happened)")})
    return until - dt.timedelta(days=window_days), until


def _promises_with_metric(qs: QuerySet[ServicePromise], metric: Metric) -> QuerySet[ServicePromise]:
    return qs.filter(metric=metric)


def _median(values: Sequence[Decimal]) -> Decimal | None:
    return Decimal(median(values)).quantize(PLACES) if values else None


def _keep_rate(scope: Scope, start: dt.datetime, end: dt.datetime) -> tuple[Decimal | None, dict]:
    qs = ServicePromise.objects.filter(verified_at__gte=start, verified_at__lt=end)
    if scope.category_ids:
        qs = qs.filter(category_id__in=scope.category_ids)
    figures = qs.aggregate(kept=Count("pk", filter=kept_q()), broken=Count("pk", filter=broken_q()))
    verified = figures["kept"] + figures["broken"]
    share = rate(figures["kept"], verified)
    return (share * 100).quantize(Decimal("0.1")) if share is not None else None, {
        "verified": verified, "kept": figures["kept"], "broken": figures["broken"]}


def _median_actual_value(metric: Metric, scope: Scope, start: dt.datetime, end: dt.datetime
                         ) -> tuple[Decimal | None, dict]:
    qs = _promises_with_metric(ServicePromise.objects.filter(verified_q(), verified_at__gte=start,
                                                             verified_at__lt=end), metric)
    if scope.category_ids:
        qs = qs.filter(category_id__in=scope.category_ids)
    if connection.vendor == "postgresql":
        row = qs.aggregate(n=Count("pk"), median=Median("actual_value", output_field=DecimalField()))
        value = Decimal(row["median"]).quantize(PLACES) if row["median"] is not None else None
        return value, {"verified": row["n"]}
    values = list(qs.order_by("actual_value").values_list("actual_value", flat=True))
    return _median(values), {"verified": len(values)}


def _median_gate_lead_time(scope: Scope, start: dt.datetime, end: dt.datetime) -> tuple[Decimal | None, dict]:
    definition = scope.gate_definition
    if definition is None:
        return None, {"passed": 0}
    # The gate across the versions of its plan: a new version copies the definition under a new id.
    reviews = (GateReview.objects.filter(state=ReviewState.PASSED, opened_at__isnull=False, decided_at__gte=start,
                                         decided_at__lt=end, promise__category_id=definition.plan.category_id,
                                         step=definition.step, name=definition.name)
               .values_list("opened_at", "decided_at"))
    calendar = team_calendar(definition.owning_team_id)
    hours = [Decimal(working_seconds_between(opened, decided, calendar)) / 3600 for opened, decided in reviews]
    return _median(sorted(hours)), {"passed": len(hours)}


def _feedback(scope: Scope, start: dt.datetime, end: dt.datetime) -> QuerySet[Feedback]:
    qs = Feedback.objects.filter(received_at__gte=start, received_at__lt=end)
    if scope.category_ids:
        qs = qs.filter(category_id__in=scope.category_ids)
    if scope.channel:
        qs = qs.filter(channel=scope.channel)
    return qs


def _score_average(score: str, scope: Scope, start: dt.datetime, end: dt.datetime) -> tuple[Decimal | None, dict]:
    row = _feedback(scope, start, end).filter(**{f"{score}__isnull": False}).aggregate(n=Count("pk"), avg=Avg(score))
    value = Decimal(str(row["avg"])).quantize(PLACES) if row["avg"] is not None else None
    return value, {"responses": row["n"]}


def _feedback_count(scope: Scope, start: dt.datetime, end: dt.datetime) -> tuple[Decimal | None, dict]:
    n = _feedback(scope, start, end).filter(kind=scope.feedback_kind).count()
    return Decimal(n), {"feedback": n}


def target_measure(*, measure: str, metric: Metric, scope: Scope, window_start: dt.datetime,
                   window_end: dt.datetime) -> Measurement:
    """The product's figure for one measure over a scope and a window [start, end), with its counts.
    None as the value when the product holds no data for it (a hand-measured target, an empty window)."""
    if measure == M.KEEP_RATE:
        value, counts = _keep_rate(scope, window_start, window_end)
    elif measure == M.MEDIAN_ACTUAL_VALUE:
        value, counts = _median_actual_value(metric, scope, window_start, window_end)
    elif measure == M.MEDIAN_GATE_LEAD_TIME:
        value, counts = _median_gate_lead_time(scope, window_start, window_end)
    elif measure in (M.CSAT_AVERAGE, M.NPS_AVERAGE):
        value, counts = _score_average("csat_score" if measure == M.CSAT_AVERAGE else "nps_score", scope,
                                       window_start, window_end)
    elif measure == M.FEEDBACK_COUNT:
        value, counts = _feedback_count(scope, window_start, window_end)
    else:
        value, counts = None, {}
    return Measurement(measure=measure, value=value, counts=counts, window_start=window_start,
                       window_end=window_end)


def target_check_window(target: ImprovementTarget, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A check measures the window up to now, or up to the end of the deadline day when the check comes
    later: what counts is whether the target was reached by its deadline."""
    deadline_end = dt.datetime.combine(target.deadline + dt.timedelta(days=1), dt.time(0, 0),
                                       tzinfo=timezone.get_current_timezone())
    end = min(now, deadline_end)
    return end - dt.timedelta(days=target.window_days), end


def improvement_baseline(*, measure: str, metric: Metric, scope: Scope, window_days: int,
                         until: dt.datetime | None = None, now: dt.datetime | None = None) -> Measurement:
    """A proposed baseline when planning: the same measurement a check makes, over the window ending
    `until` (default now)."""
    now = now or timezone.now()
    start, end = measurement_window(window_days=window_days, until=until or now, now=now)
    return target_measure(measure=measure, metric=metric, scope=scope, window_start=start, window_end=end)
