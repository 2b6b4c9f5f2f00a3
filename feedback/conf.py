"""KVP tunables. Each can be overridden in settings; the defaults are the product's."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


DEFAULTS = {
    # Early warning: break rate over the last N verified promises of a category.
    "KVP_EARLY_WARNING_WINDOW": 20,
    "KVP_EARLY_WARNING_THRESHOLD": Decimal("0.20"),
    # Gate escapes: share of promises that passed a gate and still broke.
    "KVP_GATE_ESCAPE_THRESHOLD": Decimal("0.25"),
    "KVP_GATE_ESCAPE_MIN_PASSED": 5,
    # Window of the record shown to presales, and of the before/after effect comparison.
    "KVP_RECORD_WINDOW_DAYS": 365,
    "KVP_EFFECT_WINDOW_DAYS": 90,
    # CSV import.
    "KVP_IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "KVP_IMPORT_MAX_ROWS": 20000,
}
