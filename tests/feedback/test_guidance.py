"""Guidance back to presales: submitting a promise needs the category's current guidance acknowledged."""

from __future__ import annotations

import pytest

from core.errors import CommonErrorCode, Conflict, NotAllowed, ValidationFailed
from feedback.error_codes import FeedbackErrorCode
from feedback.models import Guidance, GuidanceAcknowledgement
from feedback.selectors.guidance import category_record, guidance_current
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
    # The refusal names the guidance by its text, which the person reads, not by its id.
    assert "«Never promise on holidays.»" in exc.value.message and "must acknowledge" in exc.value.message
    assert "Confirm technician" not in exc.value.message and str(guidance[1].pk) not in exc.value.message
    assert exc.value.fields == {"acknowledged_guidance_ids": "missing: «Never promise on holidays.»"}
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
    fs.guidance_retire(user=manager, guidance_id=guidance[1].pk, reason="holidays are staffed now")
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
        fs.guidance_retire(user=seller, guidance_id=guidance[0].pk, reason="x")
    assert exc.value.code == CommonErrorCode.NOT_MANAGER
    at = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    retired = fs.guidance_retire(user=manager, guidance_id=guidance[0].pk, reason=" rota checked daily ", now=at)
    assert (retired.retired_at, retired.retired_by, retired.retire_reason) == (at, manager, "rota checked daily")


def test_retiring_needs_a_reason_and_current_guidance(guidance, manager):
    with pytest.raises(ValidationFailed) as exc:
        fs.guidance_retire(user=manager, guidance_id=guidance[0].pk, reason=" ")
    assert exc.value.code == FeedbackErrorCode.REASON_REQUIRED and set(exc.value.fields) == {"reason"}
    fs.guidance_retire(user=manager, guidance_id=guidance[0].pk, reason="obsolete")
    with pytest.raises(Conflict) as exc:
        fs.guidance_retire(user=manager, guidance_id=guidance[0].pk, reason="again")
    assert exc.value.code == FeedbackErrorCode.GUIDANCE_RETIRED


def test_superseding_replaces_the_text_and_the_record_shows_only_current_guidance(guidance, manager, category):
    new = fs.guidance_supersede(user=manager, guidance_id=guidance[1].pk, text="Holidays: next working day only.",
                                reason="holiday staffing changed")
    old = Guidance.objects.get(pk=guidance[1].pk)
    assert (old.superseded_by, old.retired_by, old.retire_reason) == (new, manager, "holiday staffing changed")
    assert old.retired_at is not None and new.category_id == category.pk
    record = category_record(category_id=category.pk)
    assert [g.text for g in record["guidance"]] == ["Confirm technician capacity first.",
                                                    "Holidays: next working day only."]
    with pytest.raises(Conflict):
        fs.guidance_supersede(user=manager, guidance_id=guidance[1].pk, text="again", reason="again")
