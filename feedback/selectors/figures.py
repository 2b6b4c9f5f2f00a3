"""The one way the KVP figures turn counts into a rate."""

from __future__ import annotations

from decimal import Decimal


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to three places; None when there is nothing to divide by."""
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001")) if whole else None
