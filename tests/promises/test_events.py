"""Who hears of a promise's event (promises/events.py) and what its payload carries."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core import roles
from notifications.models import EventKind, OutboxEvent
from notifications.recipients import CustomerAddress, Recipients
from promises import services as ps
from promises.events import promise_event_record
from promises.status_link import ISSUED, status_link_set


def test_the_owner_hears_of_the_submission_and_a_rejection_reaches_the_managers(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    submitted = OutboxEvent.objects.get(kind=EventKind.PROMISE_SUBMITTED)
    assert Recipients.from_json(submitted.recipients) == Recipients(user_ids=(seller.pk,))
    assert submitted.payload["promise"] == {"id": promise.pk, "title": promise.title, "state": "in_review"}
    assert submitted.payload["link"] == f"/promises/{promise.pk}/"
    with transaction.atomic():
        rejected, _ = promise_event_record(kind=EventKind.PROMISE_REJECTED, promise=promise, actor=None)
    assert Recipients.from_json(rejected.recipients) == Recipients(user_ids=(seller.pk,),
                                                                   group_names=(roles.MANAGERS,))


def test_an_interim_notice_goes_to_the_customer_only_with_the_status_link(make_promise, customer):
    promise = make_promise()
    with transaction.atomic():
        status_link_set(promise, ISSUED, actor=None, now=timezone.now())
        event, created = promise_event_record(kind=EventKind.INTERIM_NOTICE_DUE, promise=promise, key="once")
        again, created_again = promise_event_record(kind=EventKind.INTERIM_NOTICE_DUE, promise=promise, key="once")
    assert (created, created_again, again.pk) == (True, False, event.pk)
    assert Recipients.from_json(event.recipients) == Recipients(customer=CustomerAddress(
        key=f"customer:{customer.pk}", email=customer.email, language=customer.language))
    assert event.payload["customer_link"] == f"/status/{promise.status_token}/"
    assert len(promise.status_token) >= 43, "32 random bytes, URL-safe"
    assert event.payload["customer_name"] == customer.name
