"""How the promise pages colour and name states, teams and events (the words are the models' own)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import roles
from promises.models import PromiseState

S = PromiseState

TONES = {S.FULFILLED: "ok", S.CLOSED: "ok", S.APPROVED: "ok", S.COMMITTED: "ok", S.BROKEN: "danger",
         S.REJECTED: "danger", S.REWORK: "warn", S.ON_HOLD: "warn", S.WITHDRAWN: "neutral", S.DRAFT: "neutral"}

TEAM_LABELS = {
    roles.SALES: _("Sales"), roles.MARKETING: _("Marketing"), roles.PRESALES: _("Presales"),
    roles.SERVICE: _("Service"), roles.DELIVERY: _("Delivery"), roles.LEGAL: _("Legal"),
    roles.MANAGERS: _("Managers"), roles.OPERATORS: _("Operators"),
}


def state_tone(state: str) -> str:
    """The pill's colour class; the pill's text says the state too."""
    return TONES.get(state, "")


def state_label(state: str) -> str:
    try:
        return PromiseState(state).label
    except ValueError:
        return state


def team_label(name: str) -> str:
    return str(TEAM_LABELS.get(name, name))
