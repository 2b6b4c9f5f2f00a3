"""Summary rows kept in step with the rows they count: one statement adds to a counter row, creating it
on first use. Concurrent writers of the same row queue on its lock (INSERT … ON CONFLICT DO UPDATE), so
no increment is lost; the caller's transaction makes the tally commit or roll back with the change
that caused it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def tally_add_rows(table: str, *, keys: Sequence[str], counters: Sequence[str],
                   rows: Mapping[tuple, Mapping[str, int]]) -> None:
    """`tally_add` for many rows in one statement: {key values: {counter: delta}}."""
    if not rows:
        return
    q = connection.ops.quote_name
    columns = [*keys, *counters]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [v for key, deltas in rows.items() for v in (*key, *(deltas.get(c, 0) for c in counters))]
    updates = ", ".join(f"{q(c)} = {table}.{q(c)} + EXCLUDED.{q(c)}" for c in counters)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES "
                       f"{', '.join([row_sql] * len(rows))} ON CONFLICT ({', '.join(q(k) for k in keys)}) "
                       f"DO UPDATE SET {updates}", params)
