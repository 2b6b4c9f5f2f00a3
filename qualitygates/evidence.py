"""Evidence at the gates: when a gate opens, what delivery achieved on the promise's metric is stored
with the review (the figures the gatekeeper sees and decides on, never recomputed), and its
evidence criteria are pre-filled met or not met from them. A gatekeeper who decides otherwise
overrides, with a reason, and the override goes into the trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.utils.translation import gettext as _

from promises.evidence import evidence_figures, evidence_setting
from promises.models import ServicePromise, TrailSubject, TransitionLog

from .models import CheckResult, CriterionKind, GateCheck, GateReview


def _json(value):
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _figure(value: str | None, unit: str) -> str:
    return f"{Decimal(value).normalize():f} {unit}" if value is not None else "—"


def _note(evidence: dict, min_share: Decimal, comparison: str) -> str:
    unit = evidence["metric"]["unit"]
    if not evidence["sufficient"]:
        return (_("Not enough comparable promises to judge: %(count)s verified in the last %(days)s days, "
                  "%(minimum)s needed. The gatekeeper decides.")
                % {"count": evidence["count"], "days": evidence["window_days"], "minimum": evidence["minimum"]})
    return (_("Target %(comparison)s %(target)s achieved by %(share)s %% of %(count)s comparable promises "
              "(%(needed)s %% needed); median %(median)s, p80 %(p80)s, p95 %(p95)s, worst %(worst)s.")
            % {"comparison": comparison, "target": _figure(evidence["target"], unit),
               "share": round(Decimal(evidence["met_share"]) * 100), "count": evidence["count"],
               "needed": round(min_share * 100), "median": _figure(evidence["median"], unit),
               "p80": _figure(evidence["p80"], unit), "p95": _figure(evidence["p95"], unit),
               "worst": _figure(evidence["worst"], unit)})


def review_evidence_prepare(review: GateReview, *, promise: ServicePromise, now: dt.datetime,
                            has_evidence_checks: bool | None = None) -> None:
    """Called as the gate opens: set the evidence on the review (the caller saves it with the opening)
    and pre-fill its evidence checks. The promise itself is not one of the comparable promises.
    `has_evidence_checks` False (the caller knows the review has none) spares reading its checks."""
    if not (ServicePromise.category.is_cached(promise) and ServicePromise.metric.is_cached(promise)):
        promise = ServicePromise.objects.select_related("category", "metric").get(pk=promise.pk)
    figures = evidence_figures(category=promise.category, metric=promise.metric, target=promise.target_value,
                               since=now - dt.timedelta(days=evidence_setting("EVIDENCE_WINDOW_DAYS")),
                               until=now, exclude_promise_id=promise.pk)
    review.evidence = _json(figures)
    if has_evidence_checks is False:
        return
    checks = list(review.checks.filter(kind=CriterionKind.EVIDENCE))
    for check in checks:
        result = CheckResult.UNCHECKED
        if figures["sufficient"]:
            met = figures["met_share"] >= check.evidence_min_share
            result = CheckResult.MET if met else CheckResult.NOT_MET
        check.result = check.prefilled_result = result
        check.note = _note(review.evidence, check.evidence_min_share, promise.get_comparison_display())
    if checks:
        GateCheck.objects.bulk_update(checks, ["result", "prefilled_result", "note"])


def evidence_overrides_log(review: GateReview, checks: Iterable[GateCheck], *, actor,
                           at: dt.datetime) -> list[TransitionLog]:
    """One trail row per evidence check the gatekeeper decided against its pre-filled result (unsaved:
    they go into the trail with the decision's own rows)."""
    return [TransitionLog(subject=TrailSubject.GATE, promise_id=review.promise_id, gate_review=review,
                          action="evidence_override", from_state=check.prefilled_result, to_state=check.result,
                          actor=actor, comment=f"{check.text}: {check.note}", at=at)
            for check in checks if check.overridden]
