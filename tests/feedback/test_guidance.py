"""Guidance back to presales: submitting a promise needs the category's current guidance acknowledged."""

from __future__ import annotations

import pytest

from core.errors import CommonErrorCode, NotAllowed, ValidationFailed
from feedback.error_codes import FeedbackErrorCode
from feedback.models import GuidanceAcknowledgement
from feedback.selectors.guidance import guidance_current
from feedback.services import guidance as fs
from promises import services as ps
from promises.models import PromiseState


@pytest.fixture
def guidance(manager, category):
    first, = fs.guidance_publish(user=manager, category_ids=[category.pk], text="Confirm technician capacity first.")
    second, = fs.guidance_publish(user=manager, category_ids=[category.pk], text="Never promise on holidays.")
    return first, second


def test_submit_without_acknowledging_the_guidance_is_refused(guidance, make_promise, seller):
    promise = make_promise()
    with pytest.raises(ValidationFailed) as exc:
        ps.promise_submit(promise_id=promise.pk, user=seller, acknowledged_guidance_ids=[guidance[0].pk])
    assert exc.value.code == "guidance_not_acknowledged"
    assert str(guidance[1].pk) in exc.value.message and "must acknowledge" in exc.value.message
    promise.refresh_from_db()
    assert promise.state == PromiseState.DRAFT and promise.gate_plan_id is None
    assert not GuidanceAcknowledgement.objects.exists()


def test_submit_records_which_guidance_the_owner_acknowledged(guidance, make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller, acknowledged_guidance_ids=[g.pk for g in guidance])
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW
    assert set(GuidanceAcknowledgement.objects.filter(promise=promise).values_list("guidance_id", "user")) == {
        (guidance[0].pk, seller.pk), (guidance[1].pk, seller.pk)}


def test_retired_guidance_is_no_longer_required(guidance, manager, make_promise, seller, category):
    fs.guidance_retire(user=manager, guidance_id=guidance[1].pk)
    assert list(guidance_current(category_id=category.pk)) == [guidance[0]]
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller, acknowledged_guidance_ids=[guidance[0].pk])
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW


def test_a_category_without_guidance_needs_no_acknowledgement(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW


def test_only_managers_publish_guidance_and_only_on_known_categories(seller, manager, category):
    with pytest.raises(NotAllowed) as exc:
        fs.guidance_publish(user=seller, category_ids=[category.pk], text="x")
    assert exc.value.code == CommonErrorCode.NOT_MANAGER
    with pytest.raises(ValidationFailed, match="Unknown category") as exc:
        fs.guidance_publish(user=manager, category_ids=[category.pk, 424242], text="x")
    assert exc.value.code == FeedbackErrorCode.UNKNOWN_CATEGORY
    with pytest.raises(ValidationFailed, match="text") as exc:
        fs.guidance_publish(user=manager, category_ids=[category.pk], text="  ")
    assert exc.value.code == FeedbackErrorCode.GUIDANCE_TEXT_REQUIRED
    with pytest.raises(ValidationFailed) as exc:
        fs.guidance_publish(user=manager, category_ids=[], text="x")
    assert exc.value.code == FeedbackErrorCode.GUIDANCE_CATEGORY_REQUIRED
    assert not guidance_current(category_id=category.pk).exists()


def test_retiring_is_for_managers_at_the_given_time(guidance, manager, seller):
    import datetime as dt

    with pytest.raises(NotAllowed) as exc:
        fs.guidance_retire(user=seller, guidance_id=guidance[0].pk)
    assert exc.value.code == CommonErrorCode.NOT_MANAGER
    at = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    assert fs.guidance_retire(user=manager, guidance_id=guidance[0].pk, now=at).retired_at == at
