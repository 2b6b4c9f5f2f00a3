"""What went out stays on record: the database refuses to delete a sent delivery or change it, except
its address (which an erasure request pseudonymises)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from notifications.models import Delivery, DeliveryState
from promises import services as ps
from tests.outbox_support import drain

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _raw(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def sent(make_promise, seller, service_user):  # the service team hears of the submission
    ps.promise_submit(promise_id=make_promise().pk, user=seller)
    drain()
    return Delivery.objects.filter(state=DeliveryState.SENT).first()


@pytest.mark.parametrize("sql", [
    "UPDATE notifications_delivery SET state = 'failed' WHERE id = %s",
    "UPDATE notifications_delivery SET sent_at = now() - interval '1 day' WHERE id = %s",
    "UPDATE notifications_delivery SET recipient_id = NULL WHERE id = %s",
    "DELETE FROM notifications_delivery WHERE id = %s",
])
def test_a_sent_delivery_cannot_be_changed_or_deleted(sent, sql):
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"):
        _raw(sql, sent.pk)
    assert Delivery.objects.get(pk=sent.pk).state == DeliveryState.SENT


def test_its_address_can_be_pseudonymised_and_unsent_rows_are_not_protected(sent):
    _raw("UPDATE notifications_delivery SET address = 'erased@invalid.example' WHERE id = %s", sent.pk)
    assert Delivery.objects.get(pk=sent.pk).address == "erased@invalid.example"
    _raw("UPDATE notifications_delivery SET state = 'pending' WHERE state = 'sent' AND false")
