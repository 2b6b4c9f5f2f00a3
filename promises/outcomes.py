"""Kept and broken as database conditions, so every figure is counted in SQL.

The same rule for one promise in Python is `ServicePromise.kept` (by `Comparison.is_kept`);
the two are tested against each other.

A promise is verified when it has an actual value (reopening the verification clears it); it
was kept when the actual value meets the target by the promise's own comparison.
"""

from __future__ import annotations

from django.db.models import F, Q


def verified_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}actual_value__isnull": False, f"{prefix}verified_at__isnull": False})


def kept_q(prefix: str = "") -> Q:
    target = F(f"{prefix}target_value")
    return verified_q(prefix) & (
        Q(**{f"{prefix}comparison": "lte", f"{prefix}actual_value__lte": target})
        | Q(**{f"{prefix}comparison": "gte", f"{prefix}actual_value__gte": target})
        | Q(**{f"{prefix}comparison": "eq", f"{prefix}actual_value": target})
    )


def broken_q(prefix: str = "") -> Q:
    target = F(f"{prefix}target_value")
    return verified_q(prefix) & (
        Q(**{f"{prefix}comparison": "lte", f"{prefix}actual_value__gt": target})
        | Q(**{f"{prefix}comparison": "gte", f"{prefix}actual_value__lt": target})
        | (Q(**{f"{prefix}comparison": "eq"}) & ~Q(**{f"{prefix}actual_value": target}))
    )
