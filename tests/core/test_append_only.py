"""The transition trails of promises and improvement items are only ever added to."""

import pytest

from promises import services as ps
from promises.models import TransitionLog


@pytest.fixture
def trail_entry(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    return TransitionLog.objects.filter(promise=promise).first()


def test_a_written_trail_entry_cannot_be_changed(trail_entry):
    trail_entry.comment = "rewritten history"
    with pytest.raises(PermissionError, match="append-only"):
        trail_entry.save()
    trail_entry.refresh_from_db()
    assert trail_entry.comment != "rewritten history"


def test_the_trail_refuses_bulk_update_and_delete(trail_entry):
    count = TransitionLog.objects.count()
    with pytest.raises(PermissionError):
        TransitionLog.objects.filter(pk=trail_entry.pk).update(comment="x")
    with pytest.raises(PermissionError):
        TransitionLog.objects.all().delete()
    with pytest.raises(PermissionError):
        trail_entry.delete()
    assert TransitionLog.objects.count() == count


def test_the_improvement_trail_is_append_only_too(db):
    from feedback.models import ImprovementTransition

    with pytest.raises(PermissionError):
        ImprovementTransition.objects.all().update(comment="x")
    with pytest.raises(PermissionError):
        ImprovementTransition.objects.all().delete()
