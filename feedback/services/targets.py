"""The SMART targets of an improvement item: checked when planning (at least one, complete, each an
improvement in its metric's direction, in its metric's unit), written with the plan, and measured at
the check — by the product where it holds the data, next to any value typed by hand."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from promises.models import Metric, MetricDirection, MetricKind, PromiseCategory
from qualitygates.models import GateDefinition

from ..error_codes import FeedbackErrorCode
from ..models import ImprovementItem, ImprovementTarget, TargetMeasure
from ..selectors.targets import Scope, improves, reaches, target_check_window, target_measure

M = TargetMeasure


@dataclass(frozen=True)
class TargetInput:
    """One target as parsed from a request. `metric` is a catalogue entry; only the old single-target
    plan names its metric by text (`metric_name`), and the plan then maps it onto the catalogue."""

    baseline: Decimal
    target_value: Decimal
    deadline: dt.date
    metric: Metric | None = None
    metric_name: str = ""
    unit: str = ""
    measure: TargetMeasure = M.MANUAL
    categories: tuple[PromiseCategory, ...] = ()
    gate_definition: GateDefinition | None = None
    channel: str = ""
    feedback_kind: str = ""
    window_days: int = 90


def _direction(target: TargetInput) -> str:
    if target.metric is not None:
        return target.metric.direction
    existing = _catalogue_match(target.metric_name)
    if existing is not None:
        return existing.direction
    return (MetricDirection.LOWER_IS_BETTER if target.target_value < target.baseline
            else MetricDirection.HIGHER_IS_BETTER)


UNIT_IN_NAME = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]{1,30})\)\s*$")


def split_metric_text(text: str, unit: str = "") -> tuple[str, str]:
    """'average wait (min)' → ('average wait', 'min'); a unit given on its own wins."""
    match = UNIT_IN_NAME.match(text.strip())
    if match:
        return match["name"].strip(), unit.strip() or match["unit"].strip()
    return text.strip(), unit.strip()


def kind_for_unit(unit: str) -> str:
    unit = unit.strip().lower()
    if unit in {"%", "percent", "prozent"}:
        return MetricKind.PERCENTAGE
    if unit in {"h", "hours", "std", "stunden", "working hours"}:
        return MetricKind.WORKING_HOURS
    if unit in {"d", "days", "tage", "werktage", "working days", "calendar days"}:
        return MetricKind.CALENDAR_DAYS
    if unit in {"eur", "€", "euro"}:
        return MetricKind.MONEY
    return MetricKind.COUNT


def _catalogue_match(text: str) -> Metric | None:
    name, _unit = split_metric_text(text)
    return (Metric.objects.filter(name__iexact=name).first()
            or Metric.objects.filter(name_de__iexact=name).first() if name else None)


def targets_problems(targets: Sequence[TargetInput], *, start_date: dt.date) -> tuple[dict[str, str], str]:
    """Every problem of the targets by field, and the code of the rule broken first."""
    if not targets:
        return {"targets": _("required: at least one target (metric, baseline, target value, deadline)")}, \
            FeedbackErrorCode.TARGETS_REQUIRED
    problems: dict[str, str] = {}
    code = ""
    for i, target in enumerate(targets):
        at = f"targets[{i}]"
        metric_unit = target.metric.unit if target.metric else None
        if target.metric is None and not split_metric_text(target.metric_name)[0]:
            problems[f"{at}.metric"] = _("required (a catalogue metric)")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
            continue
        if target.baseline == target.target_value:
            problems[f"{at}.target_value"] = _("must differ from the baseline: a target is a change")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
        elif not improves(_direction(target), baseline=target.baseline, target=target.target_value):
            direction = MetricDirection(_direction(target)).label
            problems[f"{at}.target_value"] = _(
                "must improve on the baseline in the metric's direction (%(direction)s)") % {"direction": direction}
            code = code or FeedbackErrorCode.TARGET_WRONG_DIRECTION
        if metric_unit is not None and target.unit and target.unit.strip() != metric_unit:
            problems[f"{at}.unit"] = _("must be the metric's unit (%(unit)s)") % {"unit": metric_unit}
            code = code or FeedbackErrorCode.UNIT_NOT_METRICS
        if target.deadline < start_date:
            problems[f"{at}.deadline"] = _("must not lie before the start")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
        if target.measure == M.FEEDBACK_COUNT and not target.feedback_kind:
            problems[f"{at}.feedback_kind"] = _("required to count feedback (which kind)")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
        if target.measure == M.MEDIAN_GATE_LEAD_TIME and target.gate_definition is None:
            problems[f"{at}.gate_definition"] = _("required to measure a gate's lead time (which gate)")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
        if target.window_days < 1:
            problems[f"{at}.window_days"] = _("must be at least 1")
            code = code or FeedbackErrorCode.PLAN_INCOMPLETE
    return problems, code


def _catalogue_metric(target: TargetInput) -> Metric:
    """The old single target names its metric by text: the catalogue entry of that name, or a new one
    whose direction follows from baseline → target."""
    if target.metric is not None:
        return target.metric
    existing = _catalogue_match(target.metric_name)
    name, unit = split_metric_text(target.metric_name, target.unit)
    if existing is not None:
        if unit and unit != existing.unit:
            raise ValidationFailed(_("The target's unit is not its metric's: %(metric)s is measured in %(unit)s.") % {
                "metric": existing.name, "unit": existing.unit}, code=FeedbackErrorCode.UNIT_NOT_METRICS,
                fields={"unit": _("must be the metric's unit (%(unit)s)") % {"unit": existing.unit}})
        return existing
    return Metric.objects.create(name=name, unit=unit, kind=kind_for_unit(unit),
                                 direction=_direction(target))


def targets_create(item: ImprovementItem, targets: Sequence[TargetInput]) -> list[ImprovementTarget]:
    """In the plan's transaction: a replan replaces the targets."""
    item.targets.all().delete()
    created = []
    for order, target in enumerate(targets):
        row = ImprovementTarget.objects.create(
            item=item, metric=_catalogue_metric(target), measure=target.measure, order=order,
            gate_definition=target.gate_definition, channel=target.channel, feedback_kind=target.feedback_kind,
            baseline=target.baseline, target_value=target.target_value, deadline=target.deadline,
            window_days=target.window_days)
        row.categories.set(target.categories)
        created.append(row)
    return created


def targets_measure(item: ImprovementItem, *, manual_values: Mapping[int, Decimal], single_value: Decimal | None,
                    now: dt.datetime) -> None:
    """At the check: the product's measurement of every target over its scope and window, the value typed
    by hand where one was given (`single_value`: the old check's one value, for an item with one target),
    and whether the target was reached by its deadline."""
    targets = list(item.targets.select_related("metric", "gate_definition__plan").prefetch_related("categories"))
    if single_value is not None:
        if len(targets) != 1:
            raise ValidationFailed(_("This item has %(n)d targets: give the measured values per target.") % {
                "n": len(targets)}, code=FeedbackErrorCode.UNKNOWN_TARGET,
                fields={"measured_value": _("use measurements, one per target")})
        manual_values = {**manual_values, targets[0].pk: single_value}
    unknown = sorted(set(manual_values) - {t.pk for t in targets})
    if unknown:
        raise ValidationFailed(_("The measured values name targets the item does not have: %(ids)s.") % {
            "ids": ", ".join(map(str, unknown))}, code=FeedbackErrorCode.UNKNOWN_TARGET,
            fields={"measurements": _("unknown target(s)")})
    for target in targets:
        start, end = target_check_window(target, now=now)
        measured = target_measure(measure=target.measure, metric=target.metric, scope=Scope.of(target),
                                  window_start=start, window_end=end)
        target.product_value = measured.value
        target.product_counts = measured.counts
        target.manual_value = manual_values.get(target.pk)
        target.window_start, target.window_end, target.measured_at = start, end, now
        value = target.measured_value
        # The window ends at the deadline at the latest, so reaching the target in it is reaching it in time.
        target.reached = None if value is None else reaches(target.metric.direction, value=value,
                                                            target=target.target_value)
        target.save(update_fields=["product_value", "product_counts", "manual_value", "window_start",
                                   "window_end", "measured_at", "reached"])
