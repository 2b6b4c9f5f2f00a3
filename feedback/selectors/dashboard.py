"""The managers' KVP board: keep rates, gate escapes, open improvements and their measured effect."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from promises.models import PromiseCategory

from .. import conf
from ..models import OPEN_IMPROVEMENT_STATES
from .figures import rate
from .improvements import improvement_effects, improvement_list
from .signals import gate_escapes
from .summaries import Window, outcome_counts

# The board shows the measured effect of the most recently standardized items; the rest are on the
# improvement pages (`improvement_effects()` without a limit).
DASHBOARD_EFFECTS = 20
# … and the most recent open improvement items, with the number of all of them (`open_improvements_count`);
# the improvement list (`improvement_list`) pages through the rest.
DASHBOARD_OPEN_IMPROVEMENTS = 50


def category_keep_rates(*, window_days: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Keep rate per category over the window, from the day summaries: two queries."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=window_days or conf.get("KVP_RECORD_WINDOW_DAYS"))
    categories = list(PromiseCategory.objects.order_by("name"))
    counts = outcome_counts([Window(key=c.pk, category_id=c.pk, start=since, end=now, inclusive=True)
                             for c in categories])
    result = []
    for c in categories:
        kept, broken = counts[c.pk]["kept"], counts[c.pk]["broken"]
        c.kept, c.broken = kept, broken
        result.append({"category": c, "kept": kept, "broken": broken, "keep_rate": rate(kept, kept + broken)})
    return result


def kvp_dashboard(*, user, now: dt.datetime | None = None) -> dict:
    """The manager's KVP board: keep rate per category, gate escapes (flagged first), open
    improvements (those `user` may see: the 50 most recent, and how many there are), the measured
    effect of the 20 most recently standardized ones. A fixed number of queries, none of which reads
    more rows as the history grows (summary rows, by index). The figures are aggregates and count every promise, whoever looks."""
    escapes = gate_escapes()
    open_items = improvement_list(user=user, states=OPEN_IMPROVEMENT_STATES)
    shown = list(open_items[:DASHBOARD_OPEN_IMPROVEMENTS])
    return {
        "keep_rates": category_keep_rates(now=now),
        "gate_escapes": sorted(escapes, key=lambda r: (not r["flagged"], -(r["escape_rate"] or 0))),
        "open_improvements": shown,
        # counted only when the board does not show them all
        "open_improvements_count": len(shown) if len(shown) < DASHBOARD_OPEN_IMPROVEMENTS else open_items.count(),
        "effects": improvement_effects(now=now, limit=DASHBOARD_EFFECTS),
        "escape_threshold": conf.get("KVP_GATE_ESCAPE_THRESHOLD"),
    }
