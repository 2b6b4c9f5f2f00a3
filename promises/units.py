"""The words of the catalogue's units in the reader's language. A metric keeps one unit string (the
services compare it as typed); the usual worded units read in German on German pages ("10 Arbeitstage",
not "10 working days"). Symbols (h, s, %, min, EUR) read the same in both languages and stay as they are."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

UNIT_WORDS = {
    "working days": _("working days"),
    "working hours": _("working hours"),
    "days": _("days"),
    "hours": _("hours"),
    "minutes": _("minutes"),
    "visits": _("visits"),
}


def unit_label(unit: str) -> str:
    return str(UNIT_WORDS.get(unit.strip(), unit))
