"""Feasibility evidence: what the verified promises of a category actually delivered on a metric.

For a category and a catalogue metric, over the promises verified in a window (12 months unless
said otherwise): how many there are, the distribution of their actual values and, for a proposed
target, how many of them would have met it. "Met" and "worst" follow the metric's direction. A
percentile reads as "the value this share of promises achieved or bettered": p80 of a response
time is the time 80 % were within; p80 of an availability the level 80 % reached.

Computed in the database: PostgreSQL's percentile_cont in one query; elsewhere (SQLite) the same
interpolation from the two rows around each percentile's position, one bounded query each. Below
EVIDENCE_MIN_PROMISES comparable promises (5 unless set) the answer says so and shows no figures
beyond the count.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, FloatField, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationFailed

from .error_codes import PromiseErrorCode
from .models import Metric, MetricDirection, PromiseCategory, ServicePromise
from .outcomes import verified_q

DEFAULTS = {"EVIDENCE_MIN_PROMISES": 5, "EVIDENCE_WINDOW_DAYS": 365}
PERCENTILES = (("median", Decimal("0.5")), ("p80", Decimal("0.8")), ("p95", Decimal("0.95")))
PLACES = Decimal("0.001")


def evidence_setting(name: str) -> int:
    return getattr(settings, name, DEFAULTS[name])


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation), ordered by the metric's direction."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s %(order)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: Decimal, descending: bool, **extra):
        super().__init__(expression, fraction=f"{fraction:f}", order="DESC" if descending else "ASC", **extra)


def database_has_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def _round(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_UP)


def comparable_promises(*, category_id: int, metric_id: int, since: dt.datetime, until: dt.datetime,
                        exclude_promise_id: int | None = None) -> QuerySet[ServicePromise]:
    qs = ServicePromise.objects.filter(verified_q(), category_id=category_id, metric_id=metric_id,
                                       verified_at__gte=since, verified_at__lte=until)
    if exclude_promise_id is not None:
        qs = qs.exclude(pk=exclude_promise_id)
    return qs


def percentiles_by_offsets(promises: QuerySet[ServicePromise], *, count: int,
                           descending: bool) -> dict[str, Decimal]:
    """percentile_cont without the database's help: the two values around each position, ordered by
    the metric's direction, interpolated. One query of at most two rows per percentile."""
    ordered = promises.order_by("-actual_value" if descending else "actual_value", "pk")
    result = {}
    for name, fraction in PERCENTILES:
        position = fraction * (count - 1)
        low = int(position)
        values = list(ordered.values_list("actual_value", flat=True)[low:low + 2])
        value = values[0]
        if len(values) == 2:
            value += (values[1] - values[0]) * (position - low)
        result[name] = _round(value)
    return result


def evidence_figures(*, category: PromiseCategory, metric: Metric, since: dt.datetime, until: dt.datetime,
                     target: Decimal | None = None, exclude_promise_id: int | None = None) -> dict:
    """The figures, without checking the request (metric_evidence does): one query on PostgreSQL, four
    elsewhere, whatever the number of promises."""
    lower = metric.direction == MetricDirection.LOWER_IS_BETTER
    promises = comparable_promises(category_id=category.pk, metric_id=metric.pk, since=since, until=until,
                                   exclude_promise_id=exclude_promise_id)
    aggregates = {"count": Count("pk"), "worst": Max("actual_value") if lower else Min("actual_value")}
    if target is not None:
        met = Q(actual_value__lte=target) if lower else Q(actual_value__gte=target)
        aggregates["met"] = Count("pk", filter=met)
    in_database = database_has_percentile_cont()
    if in_database:
        aggregates.update({name: PercentileCont("actual_value", fraction=fraction, descending=not lower)
                           for name, fraction in PERCENTILES})
    row = promises.aggregate(**aggregates)
    count, minimum = row["count"], evidence_setting("EVIDENCE_MIN_PROMISES")
    sufficient = count >= minimum
    figures: dict = {name: None for name, _fraction in PERCENTILES}
    if sufficient:
        figures = ({name: _round(row[name]) for name, _fraction in PERCENTILES} if in_database
                   else percentiles_by_offsets(promises, count=count, descending=not lower))
    met_count = row.get("met") if target is not None else None
    return {
        "category": category.pk,
        "metric": {"id": metric.pk, "name": metric.display_name, "unit": metric.unit, "direction": metric.direction},
        "since": since, "until": until, "window_days": (until - since).days,
        "count": count, "minimum": minimum, "sufficient": sufficient,
        **figures,
        "worst": _round(row["worst"]) if sufficient else None,
        "target": target,
        "met": met_count if sufficient else None,
        "met_share": (Decimal(met_count) / count).quantize(PLACES) if sufficient and met_count is not None
        else None,
    }


def metric_evidence(*, category: PromiseCategory, metric: Metric, target: Decimal | None = None,
                    window_days: int | None = None, until: dt.date | None = None,
                    now: dt.datetime | None = None) -> dict:
    """What the category delivered on the metric over the window ending `until` (today unless given):
    see the module. A metric of another category, a window ending in the future and a target that is
    not a finite number are refused, naming the rule."""
    now = now or timezone.now()
    if not metric.categories.filter(pk=category.pk).exists():
        raise ValidationFailed(_("The metric '%(metric)s' is not in the catalogue of the category '%(category)s'.")
                               % {"metric": metric.display_name, "category": category.display_name},
                               code=PromiseErrorCode.METRIC_NOT_IN_CATEGORY,
                               fields={"metric": _("not a metric of this category")})
    if target is not None and not target.is_finite():
        raise ValidationFailed(_("The target must be a finite number."), code=PromiseErrorCode.TARGET_NOT_FINITE,
                               fields={"target": _("not finite")})
    today = timezone.localdate(now)
    if until is not None and until > today:
        raise ValidationFailed(_("The window ends in the future (%(until)s): evidence is what was delivered, up "
                                 "to today at the latest.") % {"until": until.isoformat()},
                               code=PromiseErrorCode.WINDOW_IN_FUTURE, fields={"until": _("in the future")})
    end = now if until is None or until == today else timezone.make_aware(
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))
    days = window_days or evidence_setting("EVIDENCE_WINDOW_DAYS")
    return evidence_figures(category=category, metric=metric, target=target, until=end,
                            since=end - dt.timedelta(days=days))
