"""Primary keys from caller input (API bodies, task arguments, form data)."""

from __future__ import annotations

from typing import Any

# Keys are PostgreSQL bigints; a larger number would reach the database as an out-of-range error.
MAX_ID = 2**63 - 1


def as_id(value: Any) -> int | None:
    """The value as a primary key, or None when it cannot be one, so services report it instead of a 500."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None
