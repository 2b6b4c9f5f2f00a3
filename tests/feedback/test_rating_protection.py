"""A customer's rating is their word: the database refuses to delete it or change what it says."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from feedback.models import Feedback, FeedbackSource
from feedback.services import intake as fs

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def rating(outcome):
    promise = outcome(kept=True)
    return fs.feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True,
                                              csat_score=5, text="Punctual, thanks to Ms Example.")


def _raw(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("sql", [
    "UPDATE feedback_feedback SET csat_score = 1 WHERE id = %s",
    "UPDATE feedback_feedback SET kept_as_seen = false WHERE id = %s",
    "UPDATE feedback_feedback SET source = 'manual' WHERE id = %s",
    "DELETE FROM feedback_feedback WHERE id = %s",
])
def test_a_customer_rating_cannot_be_changed_or_deleted(rating, sql):
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"):
        _raw(sql, rating.pk)
    rating.refresh_from_db()
    assert (rating.csat_score, rating.kept_as_seen, rating.source) == (5, True, FeedbackSource.CUSTOMER)


def test_its_text_can_be_pseudonymised_and_staff_feedback_stays_editable(rating, outcome):
    _raw("UPDATE feedback_feedback SET text = 'Punctual, thanks to [erased].' WHERE id = %s", rating.pk)
    broken = outcome(kept=False)
    staff = Feedback.objects.get(promise=broken, source=FeedbackSource.AUTOMATIC)
    _raw("UPDATE feedback_feedback SET severity = 'high' WHERE id = %s", staff.pk)
    _raw("DELETE FROM feedback_feedback WHERE id = %s", staff.pk)
    assert not Feedback.objects.filter(pk=staff.pk).exists()
    assert Feedback.objects.get(pk=rating.pk).text == "Punctual, thanks to [erased]."
