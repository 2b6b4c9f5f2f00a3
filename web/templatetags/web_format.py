"""Numbers and durations the way a reader of either language expects them.

A target of 4 shows as "4" (not "4.000"), 4.5 as "4.5" / "4,5"; a lead time as "1 d 3 h" /
"1 T. 3 Std.", not "1 day, 3:30:00".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.translation import pgettext

from promises.units import unit_label
from web.views.promises.labels import team_label

register = template.Library()


@register.filter
def number(value, places: int = 2):
    """A number without trailing zeros, in the active locale's separators."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    if not amount.is_finite():
        return value
    rounded = round(amount, int(places))
    text = format(rounded.normalize(), "f")
    decimals = len(text.partition(".")[2])
    return formats.number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def duration_parts(total_minutes: int, *, minutes_per_day: int = 24 * 60) -> list[str]:
    """ "1 d 3 h", "2 h 15 min": minutes only under a day; a day is 24 h unless a working day is given."""
    days, rest = divmod(total_minutes, minutes_per_day)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(pgettext("duration", "%(n)s d") % {"n": days})
    if hours:
        parts.append(pgettext("duration", "%(n)s h") % {"n": hours})
    if minutes and not days:
        parts.append(pgettext("duration", "%(n)s min") % {"n": minutes})
    return parts or [pgettext("duration", "%(n)s min") % {"n": 0}]


@register.filter
def duration(value):
    """A timedelta (or seconds) as "1 d 3 h" / "2 h 15 min"; negative as "−1 h" (overdue)."""
    if value is None or value == "":
        return ""
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    sign = "−" if seconds < 0 else ""
    return sign + " ".join(duration_parts(int(round(abs(seconds) / 60))))


@register.filter
def hours(value):
    """A number of hours (e.g. working hours) as a duration: 27.5 → "1 d 3 h 30 min" is too exact
    for a lead time, so days and hours of 24 h; under a day, hours and minutes."""
    if value is None or value == "":
        return ""
    try:
        return duration(float(value) * 3600)
    except (TypeError, ValueError):
        return value


@register.filter
def unit(value):
    """A unit as stored ("working days") in the reader's language ("Arbeitstage"); symbols stay."""
    return unit_label(str(value)) if value else ""


@register.filter
def team(name):
    """A team's group name ("service") as its readers call it ("Service", "Lieferung")."""
    return team_label(str(name)) if name else ""
