"""A customer contact's personal data (GDPR art. 15 and 17): everything stored about it as JSON,
and its erasure by pseudonymisation wherever it was copied, keeping promises, gates and statistics.

Managers only. Each export and erasure is a row of the append-only `PersonalDataLog` (who, what,
when, and how many records), which itself holds no personal data.

Where the contact's data is copied, and what the erasure does there:
- `Customer`: name → "erased-customer-<id>", e-mail and CRM reference emptied, `erased_at` set
  (the interim-notice clock skips a customer without an address);
- its promises' title, description and outcome reason: the address and the name replaced;
- `CustomerNotice.email`: the pseudonymous address "erased-customer-<id>@erased.invalid";
- the outbox (notifications/privacy.py): the address in recipients, payloads, deliveries and inbox
  items, and the name in the payloads of what was sent to the customer; waiting deliveries fail;
- feedback (feedback/services/personal_data.py): the address and the name in the customer's
  feedback and ratings, and the address in any feedback quoting it.
The trails (transition trail, improvement trail) are append-only and are not rewritten: they name
the people who acted, not the customer.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, Conflict, NotAllowed, NotFound
from core.ids import as_id
from core.roles import is_manager
from feedback.models import FeedbackSource
from feedback.selectors.personal_data import feedback_of_customer
from feedback.services.personal_data import feedback_pseudonymise
from notifications.privacy import address_pseudonymise, address_records

from .error_codes import PromiseErrorCode
from .models import Customer, CustomerNotice, PersonalDataAction, PersonalDataLog, ServicePromise
from .summaries import promise_summaries_reason_changed

CUSTOMER_FIELDS = ("id", "name", "segment", "email", "language", "crm_reference", "created_at", "erased_at")
PROMISE_FIELDS = ("id", "title", "description", "state", "category__name", "origin_department", "channel",
                  "metric__name", "comparison", "target_value", "metric__unit", "due_date", "crm_reference", "deal_value",
                  "actual_value", "outcome_reason", "verified_at", "customer_visible_at", "created_at")
FEEDBACK_FIELDS = ("id", "promise_id", "category__name", "channel", "kind", "severity", "csat_score",
                   "nps_score", "text", "promised_value", "actual_value", "reason", "kept_as_seen", "source",
                   "external_reference", "received_at")
PROMISE_TEXT_FIELDS = ("title", "description", "outcome_reason")
# A name shorter than this is not replaced inside free texts: it would hit unrelated words.
MIN_NAME_LENGTH = 3


def _require_manager(user) -> None:
    if not is_manager(user):
        raise NotAllowed(_("Only a manager may export or erase a customer's personal data."),
                         code=CommonErrorCode.NOT_MANAGER)


def _customer(customer_id: int, *, lock: bool = False) -> Customer:
    pk = as_id(customer_id)
    qs = Customer.objects.select_for_update() if lock else Customer.objects
    customer = qs.filter(pk=pk).first() if pk is not None else None
    if customer is None:
        raise NotFound(_("Customer %(id)s does not exist.") % {"id": customer_id})
    return customer


def _recipient_key(customer: Customer) -> str:
    return f"customer:{customer.pk}"  # as promises/events.py names the customer to the outbox


def _as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _collect(customer: Customer) -> dict:
    address = customer.email
    promises = ServicePromise.objects.filter(customer=customer).order_by("created_at", "id")
    feedback = feedback_of_customer(customer_id=customer.pk, address=address)
    notices = CustomerNotice.objects.filter(
        Q(promise__customer=customer) | (Q(email__iexact=address) if address else Q(pk__in=[])))
    outbox = address_records(address=address, recipient_key=_recipient_key(customer))
    return {
        "customer": Customer.objects.filter(pk=customer.pk).values(*CUSTOMER_FIELDS).get(),
        "promises": list(promises.values(*PROMISE_FIELDS)),
        "feedback": list(feedback.exclude(source=FeedbackSource.CUSTOMER).values(*FEEDBACK_FIELDS)),
        "ratings": list(feedback.filter(source=FeedbackSource.CUSTOMER).values(*FEEDBACK_FIELDS)),
        "customer_notices": list(notices.order_by("created_at", "id")
                                 .values("id", "promise_id", "kind", "email", "language", "created_at")),
        "outbox_events": list(outbox.events.values("id", "kind", "subject", "recipients", "payload",
                                                   "created_at")),
        "deliveries": list(outbox.deliveries.values("id", "event_id", "channel", "address", "language", "state",
                                                    "attempts", "sent_at", "created_at")),
    }


def customer_personal_data_export(*, customer_id: int, user, now: dt.datetime | None = None) -> dict:
    """Everything stored about the customer contact, as JSON values (art. 15); the export is logged."""
    _require_manager(user)
    with transaction.atomic():
        customer = _customer(customer_id)
        data = _collect(customer)
        at = now or timezone.now()
        PersonalDataLog.objects.create(customer=customer, action=PersonalDataAction.EXPORT, actor=user, at=at,
                                       counts={k: len(v) for k, v in data.items() if isinstance(v, list)})
    return _as_json({**data, "exported_at": at})


def customer_personal_data_erase(*, customer_id: int, user, now: dt.datetime | None = None) -> dict[str, int]:
    """Pseudonymise the customer contact everywhere its data was copied (art. 17); its promises, gates
    and feedback stay, so the statistics do not change. Returns how many rows of each kind changed."""
    _require_manager(user)
    now = now or timezone.now()
    with transaction.atomic():
        customer = _customer(customer_id, lock=True)
        if customer.erased_at is not None:
            raise Conflict(_("This customer's personal data has already been erased."),
                           code=PromiseErrorCode.ALREADY_ERASED)
        address, name = customer.email, customer.name
        pseudonym = f"erased-customer-{customer.pk}"
        pseudonym_address = f"{pseudonym}@erased.invalid"
        texts = {name: pseudonym} if len(name) >= MIN_NAME_LENGTH else {}
        replacements = {address: pseudonym_address, **texts} if address else texts
        changed = {
            "promises": _promises_pseudonymise(customer, address, replacements),
            "customer_notices": (CustomerNotice.objects.filter(Q(promise__customer=customer) | Q(email__iexact=address))
                                 .update(email=pseudonym_address) if address else 0),
            **address_pseudonymise(address=address, pseudonym=pseudonym_address, texts=texts,
                                   recipient_key=_recipient_key(customer), now=now),
            "feedback": feedback_pseudonymise(customer_id=customer.pk, address=address, replacements=replacements,
                                              now=now),
        }
        customer.name, customer.email, customer.crm_reference, customer.erased_at = pseudonym, "", "", now
        customer.save(update_fields=["name", "email", "crm_reference", "erased_at"])
        PersonalDataLog.objects.create(customer=customer, action=PersonalDataAction.ERASE, actor=user, at=now,
                                       counts=changed)
    return changed


def _promises_pseudonymise(customer: Customer, address: str, replacements: dict[str, str]) -> int:
    """The customer's promises (and any quoting its address) keep everything but the contact's name
    and address in their texts. Not a state change: the columns are updated directly."""
    patterns = [(re.compile(re.escape(old), re.IGNORECASE), new) for old, new in replacements.items()]
    quoting = Q(pk__in=[])
    for name in PROMISE_TEXT_FIELDS:
        quoting |= Q(**{f"{name}__icontains": address}) if address else Q(pk__in=[])
    changed = 0
    for row in ServicePromise.objects.filter(Q(customer=customer) | quoting).values("pk", *PROMISE_TEXT_FIELDS):
        new = {}
        for name in PROMISE_TEXT_FIELDS:
            value = row[name]
            for pattern, replacement in patterns:
                value = pattern.sub(replacement, value)
            if value != row[name]:
                new[name] = value
        if new:
            ServicePromise.objects.filter(pk=row["pk"]).update(**new)
            if "outcome_reason" in new:  # the reason tallies are keyed by the reason's text
                promise_summaries_reason_changed(promise_id=row["pk"], old_reason=row["outcome_reason"])
            changed += 1
    return changed
