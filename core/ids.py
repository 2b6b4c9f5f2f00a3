"""Primary keys from caller input (API bodies, task arguments, form data)."""

from __future__ import annotations

from typing import Any


def as_id(value: Any) -> int | None:
    """The value as a primary key, or None when it cannot be one, so services report it instead of a 500."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
