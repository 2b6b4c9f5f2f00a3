"""Evidence criteria at the gates: pre-filled met or not met from what delivery achieved, overridden
only with a reason that goes into the trail, and the evidence stored with the review as the
gatekeeper saw it.

The history: ten response times verified in the last year (sorted 2 3 3 4 4 5 6 8 9 12 h), made
while the category's plan had no gates. Then the plan gets one approval gate, owned by the service
team, with an evidence criterion (80 % of comparable promises achieved the target) and a manual one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from core import roles
from core.errors import ValidationFailed
from promises import services as ps
from promises.models import TransitionLog
from promises.trail_verify import trail_chain_breaks
from qualitygates import services as gs
from qualitygates.checks import CheckInput
from qualitygates.models import CheckResult, GateReview, ReviewState
from qualitygates.plan_edits import CriterionDraft, GateDraft, gate_plan_create
from tests.api.conftest import token_client
from tests.factories import CategoryFactory, CustomerFactory, catalogue_metric

pytestmark = pytest.mark.django_db

# The API decides at the real time: the history is laid out before it.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
HISTORY = ["4", "2", "9", "3", "12", "5", "4", "8", "3", "6"]


@pytest.fixture
def hotline(manager):
    category = CategoryFactory(name="Hotline", slug="hotline")
    gate_plan_create(user=manager, category=category, name="No gates yet", change_note="", gates=[], now=NOW)
    return category


@pytest.fixture
def promise_in(seller, hotline):
    customer = CustomerFactory()

    def make(target: str, *, metric=None, now=NOW):
        return ps.promise_create(user=seller, title="Callback within hours", category=hotline, customer=customer,
                                 origin_department="sales", channel="call",
                                 metric=metric or catalogue_metric(hotline), comparison="lte",
                                 target_value=Decimal(target), due_date=now.date(), now=now)

    return make


@pytest.fixture
def verified(seller, promise_in):
    """A promise through a plan without gates to a verified actual value."""

    def make(actual: str, *, at: dt.datetime):
        promise = promise_in("4", now=at - dt.timedelta(days=3))
        for service in (ps.promise_submit, ps.promise_commit, ps.promise_handover):
            service(promise_id=promise.pk, user=seller, now=at - dt.timedelta(days=1))
        return ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal(actual), reason="measured",
                                 now=at)

    return make


def _evidence_plan(manager, category, *, requirement: str = "must"):
    service = Group.objects.get_or_create(name=roles.SERVICE)[0]
    gate_plan_create(user=manager, category=category, name="With evidence", change_note="Evidence criterion",
                     now=NOW, gates=[GateDraft(
                         order=1, name="Feasibility", step="approval", owning_team=service, decision_hours=16,
                         description="", criteria=(
                             CriterionDraft(order=1, text="Achieved by 80 % of comparable promises",
                                            requirement=requirement, weight=1, kind="evidence",
                                            evidence_min_share=Decimal("0.8")),
                             CriterionDraft(order=2, text="Capacity confirmed", requirement="must", weight=1)))])


@pytest.fixture
def history(verified, manager, hotline, service_user):
    for days_ago, actual in enumerate(HISTORY, start=1):
        verified(actual, at=NOW - dt.timedelta(days=days_ago * 20))
    _evidence_plan(manager, hotline)


def _submitted_gate(seller, promise) -> GateReview:
    ps.promise_submit(promise_id=promise.pk, user=seller, now=NOW)
    return GateReview.objects.get(promise_id=promise.pk, state=ReviewState.OPEN)


def _checks(review):
    evidence_check = review.checks.get(kind="evidence")
    manual_check = review.checks.get(kind="manual")
    return evidence_check, manual_check


def test_an_evidence_criterion_is_pre_filled_met_with_the_figures(history, seller, service_user, promise_in):
    # When a promise of "≤ 9 h" opens its gate: 9 of the 10 comparable promises achieved 9 h
    review = _submitted_gate(seller, promise_in("9"))
    evidence_check, _manual = _checks(review)
    assert (evidence_check.result, evidence_check.prefilled_result) == ("met", "met")
    assert "90 % of 10 comparable promises (80 % needed)" in evidence_check.note
    assert (review.evidence["count"], review.evidence["met"], review.evidence["met_share"]) == (10, 9, "0.900")
    # Then the gatekeeper's go needs only the manual criterion: the evidence one is checked already
    decided = gs.gate_decide(review_id=review.pk, user=service_user, decision="go", now=NOW,
                             checks=[CheckInput(check_id=_manual.pk, result=CheckResult.MET)])
    assert decided.state == ReviewState.PASSED
    assert not TransitionLog.objects.filter(action="evidence_override").exists()


def test_not_met_blocks_a_go_until_the_gatekeeper_overrides_with_a_reason_in_the_trail(
        history, seller, service_user, promise_in):
    # When a promise of "≤ 4 h" opens its gate: only 5 of 10 achieved 4 h
    review = _submitted_gate(seller, promise_in("4"))
    evidence_check, manual = _checks(review)
    assert (evidence_check.result, evidence_check.prefilled_result) == ("not_met", "not_met")
    assert "50 % of 10" in evidence_check.note
    manual_met = CheckInput(check_id=manual.pk, result=CheckResult.MET)
    # Then a go on the evidence as it stands is refused (a must-meet criterion is not met)
    with pytest.raises(ValidationFailed) as exc:
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=[manual_met], now=NOW)
    assert exc.value.code == "must_criteria_unmet"
    # and deciding against the evidence without a reason is refused, naming the rule
    with pytest.raises(ValidationFailed) as exc:
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", now=NOW, checks=[
            manual_met, CheckInput(check_id=evidence_check.pk, result=CheckResult.MET)])
    assert exc.value.code == "override_needs_reason"
    # When the gatekeeper overrides with a reason
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", now=NOW, checks=[
        manual_met, CheckInput(check_id=evidence_check.pk, result=CheckResult.MET,
                               note="Second technician hired for the region from July")])
    # Then the override is in the trail: who, from what to what, and why
    override = TransitionLog.objects.get(action="evidence_override")
    assert (override.gate_review_id, override.actor, override.from_state, override.to_state) == (
        review.pk, service_user, "not_met", "met")
    assert "Second technician hired" in override.comment
    # and it is chained into the promise's trail like every other row (it once went in without a hash)
    assert trail_chain_breaks()[1] == []
    evidence_check.refresh_from_db()
    assert (evidence_check.result, evidence_check.prefilled_result, evidence_check.overridden) == (
        "met", "not_met", True)


def test_too_few_comparable_promises_leave_the_check_to_the_gatekeeper(history, seller, hotline, promise_in):
    review = _submitted_gate(seller, promise_in("5", metric=catalogue_metric(hotline, "lead time")))
    evidence_check, _manual = _checks(review)
    assert (evidence_check.result, evidence_check.prefilled_result) == ("", "")
    assert "Not enough comparable promises" in evidence_check.note
    assert (review.evidence["count"], review.evidence["sufficient"]) == (0, False)


def test_the_evidence_is_stored_with_the_review_unchanged_by_later_promises(
        history, seller, service_user, manager, hotline, promise_in, verified):
    seller_api, service_api = token_client(seller), token_client(service_user)
    promise = promise_in("4")
    # The submit response carries the evidence of the gate it opened
    submitted = seller_api.post(f"/api/promises/{promise.pk}/submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.content
    gate = submitted.json()["gates"][0]
    seen = gate["evidence"]
    assert (seen["count"], seen["met"], seen["met_share"], seen["median"], seen["p80"]) == (
        10, 5, "0.500", "4.500", "8.200")
    evidence_id = next(c["id"] for c in gate["checks"] if c["kind"] == "evidence")
    manual_id = next(c["id"] for c in gate["checks"] if c["kind"] == "manual")
    # The decide response carries the same evidence, with the override shown on the check
    decided = service_api.post(f"/api/gates/{gate['id']}/decide/", {"decision": "go", "checks": [
        {"check": manual_id, "result": "met"},
        {"check": evidence_id, "result": "met", "note": "New dispatcher tool halves the callback time"}]},
        format="json")
    assert decided.status_code == 200, decided.content
    assert decided.json()["evidence"] == seen
    shown = next(c for c in decided.json()["checks"] if c["id"] == evidence_id)
    assert (shown["prefilled_result"], shown["result"], shown["overridden"]) == ("not_met", "met", True)

    # When later promises change the figures (a plan without gates again, ten verified at 1 h)
    gate_plan_create(user=manager, category=hotline, name="No gates", change_note="", gates=[], now=NOW)
    for day in range(1, 11):
        verified("1", at=NOW - dt.timedelta(hours=day))
    # Then the review still shows what the gatekeeper saw
    again = service_api.get(f"/api/gates/{gate['id']}/").json()
    assert again["evidence"] == seen
    assert GateReview.objects.get(pk=gate["id"]).evidence["count"] == 10


@pytest.mark.parametrize("share", [None, Decimal("0"), Decimal("1.5")])
def test_an_evidence_criterion_needs_a_share_above_0_and_at_most_1(manager, hotline, share):
    service = Group.objects.get_or_create(name=roles.SERVICE)[0]
    with pytest.raises(ValidationFailed) as exc:
        gate_plan_create(user=manager, category=hotline, name="Bad", change_note="", now=NOW, gates=[GateDraft(
            order=1, name="Feasibility", step="approval", owning_team=service, decision_hours=16, description="",
            criteria=(CriterionDraft(order=1, text="Evidence", requirement="must", weight=1, kind="evidence",
                                     evidence_min_share=share),))])
    assert exc.value.code == "invalid_criterion_change" and "evidence_min_share" in exc.value.fields
    assert hotline.gate_plans.count() == 1
