"""What the customer sees of each internal state, described from the customer's side, and the
customer's timeline: the label changes they saw and the interim notices we sent. Nothing internal
(no gate, team, person or comment) ever reaches these values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from .models import CustomerNotice, ServicePromise, TrailSubject, TransitionLog
from .models import PromiseState as S


@dataclass(frozen=True)
class CustomerStatus:
    key: str
    label: str
    text: str
    # How the page colours it: ok, danger, warn, neutral or info.
    tone: str = "info"


_CONFIRMING = CustomerStatus(
    "confirming", _("Being confirmed"),
    _("We are confirming the details with our service team. You will hear from us before anything changes."),
)
_CONFIRMED = CustomerStatus(
    "confirmed", _("Confirmed"),
    _("Our service team has confirmed what we promised. We are planning the delivery."),
)
_SCHEDULED = CustomerStatus(
    "scheduled", _("Scheduled"),
    _("Your promise is committed and handed to the team that delivers it."),
)
_IN_DELIVERY = CustomerStatus(
    "in_delivery", _("In delivery"),
    _("We are delivering what we promised."),
)
_PAUSED = CustomerStatus(
    "paused", _("Waiting for a decision"),
    _("We are waiting for a decision on our side. We will tell you as soon as it moves on."),
    "warn",
)
# Verified and met: the customer still has the last word on how they saw it.
_VERIFYING = CustomerStatus(
    "verifying", _("Delivered as promised"),
    _("We delivered what we promised and met the agreed target. Please tell us how you saw it."),
    "ok",
)
_KEPT = CustomerStatus("kept", _("Kept"), _("We kept our promise. Thank you for your trust."), "ok")
# A broken promise says so from the moment it is verified, not only once the case is closed.
_MISSED = CustomerStatus(
    "missed", _("Not kept"),
    _("We did not keep our promise as agreed. We are sorry; your contact person will get in touch with you."),
    "danger",
)
_CANCELLED = CustomerStatus(
    "cancelled", _("Cancelled"),
    _("This promise no longer applies. Your contact person will explain the next steps."),
    "neutral",
)
_NOT_SHARED = CustomerStatus("not_shared", _("In preparation"), _("This promise is being prepared."), "neutral")

_BY_STATE = {
    S.DRAFT: _NOT_SHARED,
    S.IN_REVIEW: _CONFIRMING,
    S.REWORK: _CONFIRMING,
    S.APPROVED: _CONFIRMED,
    S.COMMITTED: _SCHEDULED,
    S.IN_DELIVERY: _IN_DELIVERY,
    S.ON_HOLD: _PAUSED,
    S.FULFILLED: _VERIFYING,
    S.BROKEN: _MISSED,
    S.REJECTED: _CANCELLED,
    S.WITHDRAWN: _CANCELLED,
}


def customer_status(state: str, *, verified_kept: bool | None = None) -> CustomerStatus:
    if state == S.CLOSED:
        return _KEPT if verified_kept else _MISSED
    return _BY_STATE[S(state)]


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    label: str
    text: str
    tone: str
    is_notice: bool = False


_NOTICE_LABEL = _("Interim notice")
_NOTICE_TEXT = _("We wrote to you that we are still working on your promise.")


def customer_timeline(*, promise: ServicePromise, notices: list[CustomerNotice]) -> list[TimelineEntry]:
    """Each change of the customer's label (never two equal labels in a row) and each interim notice,
    oldest first. One query: the promise's own trail rows, states and times only."""
    moves = (TransitionLog.objects.filter(promise_id=promise.pk, subject=TrailSubject.PROMISE)
             .order_by("at", "id").values_list("to_state", "at"))
    entries: list[TimelineEntry] = []
    shown = None
    for to_state, at in moves:
        status = customer_status(to_state, verified_kept=promise.kept)
        if status.key in (shown, _NOT_SHARED.key):
            continue
        shown = status.key
        entries.append(TimelineEntry(at=at, label=status.label, text=status.text, tone=status.tone))
    entries.extend(TimelineEntry(at=notice.created_at, label=_NOTICE_LABEL, text=_NOTICE_TEXT, tone="info",
                                 is_notice=True) for notice in notices)
    entries.sort(key=lambda entry: entry.at)
    return entries


def _plain_number(value: Decimal) -> str:
    """4 as "4", 4.5 as "4.5" / "4,5": no trailing zeros, the active language's separators."""
    text = format(value.normalize(), "f")
    return formats.number_format(Decimal(text), decimal_pos=len(text.partition(".")[2]), use_l10n=True)


def customer_commitment(promise: ServicePromise) -> str:
    """What we promised, in the active language: "response time ≤ 4 h" / "Reaktionszeit ≤ 4 h"."""
    return (f"{promise.metric.display_name} {promise.get_comparison_display()} "
            f"{_plain_number(promise.target_value)} {promise.metric.display_unit}")


def customer_measured(promise: ServicePromise) -> str:
    """What we measured once the promise was verified ("" before): the customer's own result."""
    if promise.actual_value is None or promise.verified_at is None:
        return ""
    return f"{_plain_number(promise.actual_value)} {promise.metric.display_unit}"
