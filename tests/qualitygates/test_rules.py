"""The gate engine's rules, each refused with a domain error that names it and without a partial write."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from core import roles
from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from promises import services as ps
from promises.models import PromiseState, ServicePromise
from qualitygates import services as gs
from qualitygates.checks import CheckInput
from qualitygates.conditions import ConditionInput
from qualitygates.models import CheckResult, GateCheck, GateCondition, GateReview, ReviewState
from tests.factories import CategoryFactory, UserFactory, all_checks_met, build_standard_plan
from tests.gate_flow import (
    approved,
    db_snapshot,
    decide,
    decide_go,
    in_delivery,
    open_review,
    refreshed,
    submitted,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def promise(make_promise, seller):
    """A promise in review with its feasibility gate (service team) open."""
    return submitted(make_promise, seller)


def tomorrow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def checks_with(review, **results_by_requirement) -> list[CheckInput]:
    return [CheckInput(check_id=c.pk, result=CheckResult(results_by_requirement.get(c.requirement, "met")),
                       note="see file")
            for c in review.checks.all()]


def assert_refused(error_class, code, call, **match):
    """The call fails with that error and rule code, and the database is exactly as before."""
    before = db_snapshot()
    with pytest.raises(error_class, **match) as info:
        call()
    assert info.value.code == code
    assert db_snapshot() == before
    return info.value


# --- who may decide -----------------------------------------------------------------------------

def test_only_members_of_the_owning_team_decide_a_gate(promise, legal_user):
    review = open_review(promise)

    error = assert_refused(NotAllowed, "not_gate_team", lambda: gs.gate_decide(
        review_id=review.pk, user=legal_user, decision="go", checks=all_checks_met(review)))

    assert "service" in error.message and "Feasibility" in error.message
    assert error.http_status == 403


def test_a_manager_outside_the_team_does_not_decide_either(promise, manager):
    review = open_review(promise)
    assert_refused(NotAllowed, "not_gate_team", lambda: gs.gate_decide(
        review_id=review.pk, user=manager, decision="go", checks=all_checks_met(review)))


def test_four_eyes_nobody_decides_a_gate_on_a_promise_they_own(make_promise):
    # Given a seller who is also in the service team and owns the promise
    both = UserFactory(username="seller-and-servicer", teams=[roles.SALES, roles.SERVICE])
    promise = submitted(make_promise, both, user=both)
    review = open_review(promise)

    error = assert_refused(NotAllowed, "four_eyes", lambda: gs.gate_decide(
        review_id=review.pk, user=both, decision="go", checks=all_checks_met(review)))
    assert "Four-eyes" in error.message


def test_four_eyes_and_team_apply_to_resuming_a_gate_on_hold(make_promise, service_user, legal_user):
    both = UserFactory(username="seller-and-servicer", teams=[roles.SALES, roles.SERVICE])
    promise = submitted(make_promise, both, user=both)
    decide(promise, service_user, "hold")
    held = GateReview.objects.get(promise=promise, state=ReviewState.ON_HOLD)

    assert_refused(NotAllowed, "four_eyes", lambda: gs.gate_resume(review_id=held.pk, user=both))
    assert_refused(NotAllowed, "not_gate_team", lambda: gs.gate_resume(review_id=held.pk, user=legal_user))


# --- criteria checks ------------------------------------------------------------------------------

def test_go_needs_every_must_meet_criterion_met(promise, service_user):
    review = open_review(promise)

    error = assert_refused(ValidationFailed, "must_criteria_unmet", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=checks_with(review, must="not_met")))

    assert "Feasibility: capacity confirmed" in error.message


def test_a_must_meet_criterion_marked_not_applicable_does_not_pass(promise, service_user):
    review = open_review(promise)
    assert_refused(ValidationFailed, "must_criteria_unmet", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=checks_with(review, must="na")))


def test_go_passes_with_a_should_meet_criterion_not_met(promise, service_user):
    review = open_review(promise)

    gs.gate_decide(review_id=review.pk, user=service_user, decision="go",
                   checks=checks_with(review, should="not_met"))

    review.refresh_from_db()
    assert review.state == ReviewState.PASSED
    assert dict(review.checks.values_list("requirement", "result")) == {"must": "met", "should": "not_met"}


def test_go_needs_a_check_for_every_criterion(promise, service_user):
    review = open_review(promise)
    must_only = [c for c in checks_with(review) if GateCheck.objects.get(pk=c.check_id).requirement == "must"]

    error = assert_refused(ValidationFailed, "checks_missing", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=must_only))
    assert "Feasibility: documented" in error.message


def test_a_check_of_another_gate_is_refused(promise, service_user):
    review = open_review(promise)
    other = GateReview.objects.get(promise=promise, name="Legal check").checks.first()
    checks = [*all_checks_met(review), CheckInput(check_id=other.pk, result=CheckResult.MET)]

    error = assert_refused(ValidationFailed, "invalid_checks", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=checks))
    assert "not a criterion of this gate" in str(error.fields)


def test_an_unknown_check_id_is_refused(promise, service_user):
    # Malformed ids (text, lists, beyond the database's range) are the serializer's: test_serializers.py
    review = open_review(promise)
    unknown = CheckInput(check_id=999_999, result=CheckResult.MET)
    assert_refused(ValidationFailed, "invalid_checks", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=[*all_checks_met(review), unknown]))


def test_a_check_given_twice_is_refused(promise, service_user):
    review = open_review(promise)
    checks = all_checks_met(review)

    error = assert_refused(ValidationFailed, "invalid_checks", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=[*checks, checks[0]]))
    assert "given twice" in str(error.fields)


def test_a_check_left_unchecked_is_refused(promise, service_user):
    review = open_review(promise)
    checks = all_checks_met(review)
    checks[0] = dataclasses.replace(checks[0], result=CheckResult.UNCHECKED)
    assert_refused(ValidationFailed, "invalid_checks", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=checks))


def test_not_applicable_needs_a_note(promise, service_user):
    review = open_review(promise)
    should = review.checks.get(requirement="should")
    checks = [CheckInput(check_id=c.pk, result=CheckResult.MET) for c in review.checks.exclude(pk=should.pk)]

    error = assert_refused(ValidationFailed, "invalid_checks", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go",
        checks=[*checks, CheckInput(check_id=should.pk, result=CheckResult.NOT_APPLICABLE, note="   ")]))
    assert "needs a note" in str(error.fields)

    # With the note it passes and the note is kept
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go",
                   checks=[*checks, CheckInput(check_id=should.pk, result=CheckResult.NOT_APPLICABLE,
                                               note="No documentation for a pilot")])
    should.refresh_from_db()
    assert (should.result, should.note) == ("na", "No documentation for a pilot")


# --- comments and decisions --------------------------------------------------------------------

@pytest.mark.parametrize("decision", ["kill", "hold", "recycle"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_kill_hold_and_recycle_need_a_comment(promise, service_user, decision, comment):
    review = open_review(promise)
    error = assert_refused(ValidationFailed, "comment_required", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision=decision, comment=comment))
    assert decision in error.message


def test_a_closure_gate_cannot_kill(make_promise, seller, service_user, legal_user, delivery_user):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))
    review = open_review(promise)
    assert_refused(ValidationFailed, "kill_at_closure", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="kill", comment="No"))


# --- conditions ---------------------------------------------------------------------------------------

def test_only_a_go_carries_conditions(promise, service_user, delivery_user):
    review = open_review(promise)
    condition = ConditionInput(description="Stock", owner=delivery_user, due_at=tomorrow())
    assert_refused(ValidationFailed, "conditions_need_go", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="hold", comment="Wait", conditions=[condition]))


@pytest.mark.parametrize("condition", [
    {"description": "   "},
    {"owner": "inactive"},
    {"due_at": dt.datetime(2030, 1, 1, 12, 0)},  # naive
    {"due_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
], ids=["no-description", "inactive-owner", "naive-due", "past-due"])
def test_conditions_are_validated_and_a_refused_conditional_go_writes_nothing(
        promise, service_user, delivery_user, condition):
    # Shapes (text, ids, ISO dates, lengths) are the serializer's: test_serializers.py
    if condition.get("owner") == "inactive":
        condition = {"owner": UserFactory(username="left-the-company", is_active=False)}
    condition = ConditionInput(**{"description": "Stock", "owner": delivery_user, "due_at": tomorrow(), **condition})
    review = open_review(promise)

    assert_refused(ValidationFailed, "invalid_conditions", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review),
        conditions=[condition]))

    # The checks were valid, but nothing of the refused decision was saved
    assert not review.checks.exclude(result="").exists()
    assert not GateCondition.objects.exists()


def test_a_conditional_go_records_its_conditions(promise, service_user, delivery_user):
    review = open_review(promise)
    due = tomorrow().replace(microsecond=0)

    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review),
                   conditions=[ConditionInput(description=" Stock ", owner=delivery_user, due_at=due)])

    condition = GateCondition.objects.get()
    assert (condition.description, condition.owner, condition.due_at) == ("Stock", delivery_user, due)


def test_conditions_are_met_only_by_their_owner_the_gate_team_or_a_manager(
        promise, service_user, legal_user, delivery_user):
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review),
                   conditions=[ConditionInput(description="Stock", owner=delivery_user, due_at=tomorrow())])
    condition = GateCondition.objects.get()

    assert_refused(NotAllowed, "not_condition_owner",
                   lambda: gs.gate_condition_meet(condition_id=condition.pk, user=legal_user))
    gs.gate_condition_meet(condition_id=condition.pk, user=delivery_user, note="done")
    assert_refused(IllegalTransition, "illegal_transition",
                   lambda: gs.gate_condition_meet(condition_id=condition.pk, user=delivery_user))


# --- unknown ids --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", [999_999, "999999", "abc", None, -1, 1.5, True, 2**63, "9" * 30])
def test_unknown_or_malformed_ids_are_not_found(promise, seller, service_user, bad_id):
    calls = [
        lambda: gs.gate_decide(review_id=bad_id, user=service_user, decision="kill", comment="x"),
        lambda: gs.gate_resume(review_id=bad_id, user=service_user),
        lambda: gs.gate_condition_meet(condition_id=bad_id, user=service_user),
        lambda: ps.promise_submit(promise_id=bad_id, user=seller),
        lambda: ps.promise_resubmit(promise_id=bad_id, user=seller),
        lambda: ps.promise_withdraw(promise_id=bad_id, user=seller),
        lambda: ps.promise_commit(promise_id=bad_id, user=seller),
        lambda: ps.promise_handover(promise_id=bad_id, user=seller),
        lambda: ps.promise_verify(promise_id=bad_id, user=seller, actual_value=Decimal("1")),
        lambda: ps.promise_close(promise_id=bad_id, user=seller),
        lambda: ps.promise_update(promise_id=bad_id, user=seller, changes=ps.PromiseChanges(title="x")),
    ]
    for call in calls:
        error = assert_refused(NotFound, "not_found", call)
        assert error.http_status == 404


# --- illegal transitions change nothing ---------------------------------------------------------------

def test_a_pending_gate_cannot_be_decided(promise, legal_user):
    pending = GateReview.objects.get(promise=promise, name="Legal check")
    assert_refused(IllegalTransition, "illegal_transition", lambda: gs.gate_decide(
        review_id=pending.pk, user=legal_user, decision="go", checks=all_checks_met(pending)))


def test_a_decided_gate_cannot_be_decided_again(promise, service_user, service_user2):
    review = decide_go(promise, service_user)
    error = assert_refused(Conflict, "already_decided", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user2, decision="kill", comment="Too late"))
    assert error.http_status == 409


def test_an_open_gate_cannot_be_resumed(promise, service_user):
    review = open_review(promise)
    assert_refused(IllegalTransition, "illegal_transition",
                   lambda: gs.gate_resume(review_id=review.pk, user=service_user))


def test_a_cancelled_gate_cannot_be_decided(promise, seller, service_user):
    review = open_review(promise)
    ps.promise_withdraw(promise_id=promise.pk, user=seller)
    assert_refused(IllegalTransition, "illegal_transition", lambda: gs.gate_decide(
        review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review)))


def test_illegal_promise_transitions_are_refused_and_change_nothing(
        make_promise, seller, service_user, legal_user):
    draft = make_promise()
    in_review = submitted(make_promise, seller)
    ok = approved(make_promise, seller, service_user, legal_user)

    refusals = [
        lambda: ps.promise_commit(promise_id=draft.pk, user=seller),
        lambda: ps.promise_commit(promise_id=in_review.pk, user=seller),
        lambda: ps.promise_handover(promise_id=ok.pk, user=seller),
        lambda: ps.promise_verify(promise_id=ok.pk, user=seller, actual_value=Decimal("1")),
        lambda: ps.promise_submit(promise_id=in_review.pk, user=seller),
        lambda: ps.promise_resubmit(promise_id=in_review.pk, user=seller),
        lambda: ps.promise_resubmit(promise_id=draft.pk, user=seller),
        lambda: ps.promise_close(promise_id=ok.pk, user=seller),
        lambda: ps.promise_update(promise_id=in_review.pk, user=seller, changes=ps.PromiseChanges(title="Changed")),
    ]
    for refusal in refusals:
        before = db_snapshot()
        with pytest.raises(IllegalTransition) as info:
            refusal()
        assert info.value.http_status == 409
        assert db_snapshot() == before
    assert [refreshed(p).state for p in (draft, in_review, ok)] == [
        PromiseState.DRAFT, PromiseState.IN_REVIEW, PromiseState.APPROVED]


def test_a_second_handover_while_the_delivery_gate_is_open_is_refused(
        make_promise, seller, service_user, legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    assert_refused(IllegalTransition, "handover_under_way",
                   lambda: ps.promise_handover(promise_id=promise.pk, user=seller))


def test_only_the_owner_or_a_manager_moves_the_promise(make_promise, seller, service_user, legal_user):
    other_seller = UserFactory(username="other-seller", teams=[roles.SALES])
    promise = approved(make_promise, seller, service_user, legal_user)
    assert_refused(NotAllowed, "not_owner", lambda: ps.promise_commit(promise_id=promise.pk, user=other_seller))
    assert_refused(NotAllowed, "not_owner", lambda: ps.promise_withdraw(promise_id=promise.pk, user=other_seller))


def test_only_owner_manager_or_a_gate_team_verifies(make_promise, seller, service_user, legal_user, delivery_user):
    outsider = UserFactory(username="marketer", teams=[roles.MARKETING])
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    assert_refused(NotAllowed, "not_verifier",
                   lambda: ps.promise_verify(promise_id=promise.pk, user=outsider, actual_value=Decimal("1")))


@pytest.mark.parametrize("actual", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_verify_needs_a_finite_number(make_promise, seller, service_user, legal_user, delivery_user, actual):
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    assert_refused(ValidationFailed, "invalid",
                   lambda: ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=actual))


def test_the_category_of_a_promise_in_rework_is_fixed(promise, seller, service_user):
    other = CategoryFactory(name="Hotline", slug="hotline")
    build_standard_plan(other)
    decide(promise, service_user, "recycle")
    assert_refused(ValidationFailed, "category_fixed",
                   lambda: ps.promise_update(promise_id=promise.pk, user=seller, changes=ps.PromiseChanges(category=other)))
    # Other fields stay editable in rework
    ps.promise_update(promise_id=promise.pk, user=seller, changes=ps.PromiseChanges(title="Technician within 6 hours"))
    assert refreshed(promise).title == "Technician within 6 hours"


@pytest.mark.parametrize("bad", [{"customer": None}, {"channel": "pigeon"}, {"origin_department": "legal"},
                                 {"comparison": "<>"}, {"deal_value": Decimal("-5")}])
def test_recording_a_promise_that_breaks_the_model_rules_is_refused(make_promise, bad):
    with pytest.raises(ValidationFailed) as info:
        make_promise(**bad)
    assert info.value.code == "invalid_promise"
    assert not ServicePromise.objects.exists()


def test_the_editable_fields_of_a_draft(make_promise, seller):
    draft = make_promise()
    ps.promise_update(promise_id=draft.pk, user=seller, changes=ps.PromiseChanges(
        title="Technician within 3 h", target_value=Decimal("3"), deal_value=None))
    draft = refreshed(draft)
    assert (draft.title, draft.target_value, draft.deal_value) == ("Technician within 3 h", Decimal("3"), None)


def test_an_edit_that_breaks_the_model_rules_writes_nothing(make_promise, seller):
    draft = make_promise()
    error = assert_refused(ValidationFailed, "invalid_promise", lambda: ps.promise_update(
        promise_id=draft.pk, user=seller, changes=ps.PromiseChanges(customer=None, customer_segment="")))
    assert "customer" in error.message
