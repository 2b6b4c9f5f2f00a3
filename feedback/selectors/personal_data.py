"""Reads of the feedback that concerns one customer contact (for the export of its personal data)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ..models import Feedback

QUOTING_FIELDS = ("text", "reason", "promised_value", "external_reference")


def quoting_q(text: str) -> Q:
    """Feedback whose free text quotes `text` (an e-mail address, a name)."""
    q = Q()
    for name in QUOTING_FIELDS:
        q |= Q(**{f"{name}__icontains": text})
    return q


def feedback_of_customer(*, customer_id: int, address: str = "") -> QuerySet[Feedback]:
    """The customer's feedback and ratings, that of its promises, and any that quotes its address."""
    q = Q(customer_id=customer_id) | Q(promise__customer_id=customer_id)
    if address:
        q |= quoting_q(address)
    return Feedback.objects.filter(q).order_by("received_at", "id")
