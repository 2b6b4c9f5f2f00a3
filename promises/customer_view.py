"""What the customer sees of each internal state: described from the customer's side."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import PromiseState as S


@dataclass(frozen=True)
class CustomerStatus:
    key: str
    label: str
    text: str


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
)
_VERIFYING = CustomerStatus(
    "verifying", _("Being checked"),
    _("We are checking whether we kept our promise. Please tell us how you saw it."),
)
_KEPT = CustomerStatus("kept", _("Kept"), _("We kept our promise. Thank you for your trust."))
_MISSED = CustomerStatus(
    "missed", _("Not kept"),
    _("We did not keep our promise as agreed. We are sorry; your contact person will get in touch with you."),
)
_CANCELLED = CustomerStatus(
    "cancelled", _("Cancelled"),
    _("This promise no longer applies. Your contact person will explain the next steps."),
)
_NOT_SHARED = CustomerStatus("not_shared", _("In preparation"), _("This promise is being prepared."))

_BY_STATE = {
    S.DRAFT: _NOT_SHARED,
    S.IN_REVIEW: _CONFIRMING,
    S.REWORK: _CONFIRMING,
    S.APPROVED: _CONFIRMED,
    S.COMMITTED: _SCHEDULED,
    S.IN_DELIVERY: _IN_DELIVERY,
    S.ON_HOLD: _PAUSED,
    S.FULFILLED: _VERIFYING,
    S.BROKEN: _VERIFYING,
    S.REJECTED: _CANCELLED,
    S.WITHDRAWN: _CANCELLED,
}


def customer_status(state: str, *, verified_kept: bool | None = None) -> CustomerStatus:
    if state == S.CLOSED:
        return _KEPT if verified_kept else _MISSED
    return _BY_STATE[S(state)]
