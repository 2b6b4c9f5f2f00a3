"""Writes on the metric catalogue: managers create and edit metrics and attach them to categories.

A metric in use keeps its unit and direction: the targets of the promises that use it were stated
in them, and the evidence compares those promises with each other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager

from .error_codes import PromiseErrorCode
from .models import Metric, MetricDirection, MetricKind, PromiseCategory


def _require_manager(user) -> None:
    if not is_manager(user):
        raise NotAllowed(_("Only managers keep the metric catalogue."), code=CommonErrorCode.NOT_MANAGER)


def _save(metric: Metric, categories: Iterable[PromiseCategory]) -> Metric:
    try:
        metric.full_clean()
    except DjangoValidationError as exc:
        fields_ = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("The metric is not valid: %(errors)s")
                               % {"errors": "; ".join(f"{k}: {v}" for k, v in fields_.items())},
                               code=PromiseErrorCode.INVALID_METRIC, fields=fields_) from exc
    metric.save()
    metric.categories.set(list(categories))
    return metric


def metric_create(*, user, name: str, unit: str, direction: MetricDirection, kind: MetricKind, name_de: str = "",
                  unit_de: str = "", categories: Iterable[PromiseCategory] = (), is_active: bool = True,
                  now: dt.datetime | None = None) -> Metric:
    """Add a metric to the catalogue, attached to the categories whose promises may use it. (`now` is
    accepted like every write's clock; the catalogue stamps no time.)"""
    _require_manager(user)
    with transaction.atomic():
        return _save(Metric(name=name.strip(), name_de=name_de.strip(), unit=unit.strip(), unit_de=unit_de.strip(),
                            direction=direction, kind=kind, is_active=is_active), categories)


def metric_update(*, metric_id: int, user, name: str, unit: str, direction: MetricDirection, kind: MetricKind,
                  name_de: str = "", unit_de: str = "", categories: Iterable[PromiseCategory] = (),
                  is_active: bool = True, now: dt.datetime | None = None) -> Metric:
    """Edit a metric: names, kind, categories, retiring it (inactive: kept by the promises that use it,
    not chosen anew). Unit and direction change only while no promise uses the metric."""
    _require_manager(user)
    with transaction.atomic():
        pk = as_id(metric_id)
        metric = Metric.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
        if metric is None:
            raise NotFound(_("Metric %(id)s does not exist.") % {"id": metric_id})
        unit = unit.strip()
        if (unit != metric.unit or direction != metric.direction) and metric.promises.exists():
            raise ValidationFailed(
                _("The metric '%(metric)s' is used by promises: their targets were stated in its unit and "
                  "direction, which therefore stay. Add a new metric instead.") % {"metric": metric.name},
                code=PromiseErrorCode.METRIC_IN_USE,
                fields={"unit" if unit != metric.unit else "direction": _("fixed while promises use the metric")})
        metric.name, metric.name_de, metric.unit, metric.unit_de = name.strip(), name_de.strip(), unit, unit_de.strip()
        metric.direction, metric.kind, metric.is_active = direction, kind, is_active
        return _save(metric, categories)
