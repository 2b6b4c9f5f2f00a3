"""Summary rows kept in step with the rows they count: one statement adds to a counter row, creating it
on first use. Concurrent writers of the same row queue on its lock (INSERT … ON CONFLICT DO UPDATE), so
no increment is lost; the caller's transaction makes the tally commit or roll back with the change
that caused it."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection


def tally_add(table: str, *, key: Mapping[str, object], deltas: Mapping[str, int]) -> None:
    """Add `deltas` to the counters of the row of `table` identified by `key` (a unique constraint)."""
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    columns = [*key, *deltas]
    placeholders = ", ".join(["%s"] * len(columns))
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    conflict = ", ".join(connection.ops.quote_name(c) for c in key)
    updates = ", ".join(f"{connection.ops.quote_name(c)} = {table}.{connection.ops.quote_name(c)} + EXCLUDED."
                        f"{connection.ops.quote_name(c)}" for c in deltas)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders}) "
                       f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}", [*key.values(), *deltas.values()])
