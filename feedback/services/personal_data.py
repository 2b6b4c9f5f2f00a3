"""Erasure of a customer contact's personal data from feedback texts (GDPR art. 17).

The feedback stays (it is the organisation's record and feeds its statistics); the texts that
name the contact are pseudonymised. Called by promises/personal_data.py, which owns the contact."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django.db import transaction

from ..selectors.personal_data import QUOTING_FIELDS, feedback_of_customer


def feedback_pseudonymise(*, customer_id: int, address: str, replacements: Mapping[str, str],
                          now: dt.datetime | None = None) -> int:
    """Replace each of `replacements` (the contact's address, name, … → their pseudonyms) wherever the
    customer's feedback, or any feedback quoting its `address`, writes it. Returns the rows changed.
    (`now` is accepted like every write's clock; the rows keep their own times.)"""
    patterns = [(re.compile(re.escape(old), re.IGNORECASE), new) for old, new in replacements.items() if old]
    changed = 0
    with transaction.atomic():
        for item in feedback_of_customer(customer_id=customer_id, address=address).select_for_update(of=("self",)):
            before = [getattr(item, name) for name in QUOTING_FIELDS]
            for name in QUOTING_FIELDS:
                value = getattr(item, name)
                for pattern, new in patterns:
                    value = pattern.sub(new, value)
                setattr(item, name, value)
            if [getattr(item, name) for name in QUOTING_FIELDS] != before:
                item.save(update_fields=list(QUOTING_FIELDS))
                changed += 1
    return changed
