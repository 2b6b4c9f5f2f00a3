"""The managers' KVP board: keep rates, gate escapes, open improvements and their measured effect."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from promises.models import PromiseCategory
from promises.outcomes import broken_q, kept_q

from .. import conf
from ..models import OPEN_IMPROVEMENT_STATES
from .figures import rate
from .improvements import improvement_effects, improvement_list
from .signals import gate_escapes


def category_keep_rates(*, window_days: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Keep rate per category over the window: one query."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=window_days or conf.get("KVP_RECORD_WINDOW_DAYS"))
    in_window = Q(promises__verified_at__gte=since, promises__verified_at__lte=now)
    rows = PromiseCategory.objects.annotate(
        kept=Count("promises", filter=kept_q("promises__") & in_window),
        broken=Count("promises", filter=broken_q("promises__") & in_window),
    ).order_by("name")
    return [{"category": c, "kept": c.kept, "broken": c.broken, "keep_rate": rate(c.kept, c.kept + c.broken)}
            for c in rows]


def kvp_dashboard(*, user, now: dt.datetime | None = None) -> dict:
    """The manager's KVP board: keep rate per category, gate escapes (flagged first), open
    improvements (those `user` may see), the measured effect of standardized ones. A fixed number
    of queries. The figures are aggregates and count every promise, whoever looks."""
    escapes = gate_escapes()
    return {
        "keep_rates": category_keep_rates(now=now),
        "gate_escapes": sorted(escapes, key=lambda r: (not r["flagged"], -(r["escape_rate"] or 0))),
        "open_improvements": list(improvement_list(user=user, states=OPEN_IMPROVEMENT_STATES)),
        "effects": improvement_effects(now=now),
        "escape_threshold": conf.get("KVP_GATE_ESCAPE_THRESHOLD"),
    }
