"""The hash chain of a promise's trail: each row's hash covers the previous row's hash and the row's
own canonical fields, so a row changed or removed behind the application's back (the database
triggers refuse it, but an owner of the database can switch them off) breaks every hash after it.
`manage.py verify_trail` recomputes the chains."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.utils import timezone

GENESIS = ""  # the "previous hash" of a promise's first row


def chain_hash(previous: str, *, promise_id: int, subject: str, gate_review_id: int | None, action: str,
               from_state: str, to_state: str, actor_id: int | None, comment: str, at: dt.datetime) -> str:
    canonical = json.dumps(
        [promise_id, subject, gate_review_id, action, from_state, to_state, actor_id, comment,
         at.astimezone(dt.UTC).isoformat(timespec="microseconds") if timezone.is_aware(at) else at.isoformat()],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()
