"""The gate queue and the decision page: Decide offered only to whom the engine lets decide, the
queue of my teams by due time, the checklist's shortcuts and refusals, and a stale page told so."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from core import roles
from promises.models import Customer
from qualitygates.models import CheckResult, GateReview, ReviewState
from tests.factories import UserFactory
from tests.gate_flow import clock, db_snapshot, decide_go, open_review, submitted  # noqa: F401
from tests.qualitygates.test_evidence_criteria import (  # noqa: F401
    _submitted_gate,
    history,
    hotline,
    promise_in,
    verified,
)

pytestmark = pytest.mark.django_db


def decide_url(review) -> str:
    return reverse("web:gate-decide", args=[review.pk])


def criterion_block(body: str, check_id: int) -> str:
    """The checklist entry of one criterion: from its fieldset to the next criterion's."""
    start = body.index(f'id="criterion-{check_id}"')
    end = body.find('class="criterion', start + 1)
    return body[start:end if end != -1 else len(body)]


@pytest.fixture
def open_gate(make_promise, seller):
    """A submitted promise whose first gate (Feasibility, team service) is open."""
    promise = submitted(make_promise, seller)
    return open_review(promise)


# --- who is offered Decide, and who is refused -----------------------------------------------

def test_a_gatekeeper_of_the_owning_team_is_offered_decide_in_the_queue(client, service_user, open_gate):
    client.force_login(service_user)
    body = client.get(reverse("web:gate-queue")).content.decode()
    assert open_gate.promise.title in body and decide_url(open_gate) in body


def test_a_gatekeeper_of_another_team_is_not_offered_decide_and_is_refused_forcing_it(
        client, legal_user, manager, open_gate):
    # given the legal team's gatekeeper, who sees the promise (it has a legal gate) and a manager
    # who sees every queue but is in no gate's team
    before = db_snapshot()
    for user in (legal_user, manager):
        client.force_login(user)
        # when they look at the queue and the promise page
        queue = client.get(reverse("web:gate-queue")).content.decode()
        promise_page = client.get(reverse("web:promise-detail", args=[open_gate.promise_id]))
        # then neither offers Decide on the service team's gate
        assert decide_url(open_gate) not in queue
        assert promise_page.status_code == 200 and decide_url(open_gate) not in promise_page.content.decode()
        # and forcing the page or the POST answers 403 naming the rule, writing nothing
        page = client.get(decide_url(open_gate))
        post = client.post(decide_url(open_gate), {"all_met": "1"})
        for response in (page, post):
            assert response.status_code == 403
            assert "Only members of the owning team" in response.content.decode()
    assert db_snapshot() == before
    # the manager's queue lists the gate all the same (every team's queue), just without Decide
    assert open_gate.promise.title in queue


def test_a_maker_in_the_gate_team_cannot_decide_their_own_promise(client, make_promise, category):
    # given a seller who is also in the service team, owning the promise
    maker = UserFactory(username="seller-and-servicer", teams=[roles.SALES, roles.SERVICE])
    promise = submitted(make_promise, maker, user=maker)
    review = open_review(promise)
    client.force_login(maker)
    # then the queue lists the gate without Decide, and forcing it is refused by the four-eyes rule
    assert decide_url(review) not in client.get(reverse("web:gate-queue")).content.decode()
    for response in (client.get(decide_url(review)), client.post(decide_url(review), {"all_met": "1"})):
        assert response.status_code == 403 and "Four-eyes rule" in response.content.decode()
    assert GateReview.objects.get(pk=review.pk).state == ReviewState.OPEN


def test_a_gate_of_a_promise_outside_my_scope_does_not_exist(client, delivery_user, open_gate):
    # a user of no team sees no promise, so no gate either
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get(decide_url(open_gate)).status_code == 404
    assert client.post(decide_url(open_gate), {"all_met": "1"}).status_code == 404
    assert client.get(reverse("web:gate-decide", args=[999999])).status_code == 404


# --- the queue --------------------------------------------------------------------------------

def test_the_queue_shows_only_my_teams_open_gates_soonest_due_first_with_overdue_marked(
        client, clock, make_promise, seller, service_user, legal_user):  # noqa: F811
    # given three promises submitted a day apart (the service gate has 16 working hours)
    first = submitted(make_promise, seller, title="First promise")
    clock.advance(days=1)
    submitted(make_promise, seller, title="Second promise")
    clock.advance(days=1)
    third = submitted(make_promise, seller, title="Third promise")
    # and one whose service gate passed: its legal gate is open, not the service team's
    decide_go(third, service_user)
    # when the service gatekeeper opens the queue two days later (the first is overdue)
    clock.advance(days=1)
    client.force_login(service_user)
    body = client.get(reverse("web:gate-queue")).content.decode()
    # then the first two are listed, first one first and overdue in words, the legal gate not
    assert body.index("First promise") < body.index("Second promise")
    assert "Third promise" not in body
    first_row = body[body.index("<tbody>"):body.index("First promise")]
    assert "overdue by" in first_row and 'class="overdue"' in first_row
    second_row = body[body.index("First promise"):body.index("Second promise")]
    assert "due in" in second_row or "overdue by" in second_row
    # and the legal gatekeeper's queue holds only the legal gate
    client.force_login(legal_user)
    legal = client.get(reverse("web:gate-queue")).content.decode()
    assert "Third promise" in legal and "First promise" not in legal
    assert decide_url(open_review(third)) in legal and decide_url(open_review(first)) not in legal


def test_gates_on_hold_are_listed_apart(client, service_user, open_gate):
    from qualitygates import services as gs

    gs.gate_decide(review_id=open_gate.pk, user=service_user, decision="hold", comment="Waiting for the customer")
    client.force_login(service_user)
    body = client.get(reverse("web:gate-queue")).content.decode()
    held_section = body[body.index("Gates on hold"):]
    assert open_gate.promise.title in held_section and "on hold," in held_section
    assert decide_url(open_gate) not in body


def test_a_manager_narrows_the_queue_to_one_team(client, manager, service_user, make_promise, seller):
    promise = submitted(make_promise, seller, title="Service gate first")
    later = submitted(make_promise, seller, title="Legal gate later")
    decide_go(later, service_user)
    client.force_login(manager)
    legal = GateReview.objects.get(promise=later, state=ReviewState.OPEN).owning_team
    everything = client.get(reverse("web:gate-queue")).content.decode()
    narrowed = client.get(reverse("web:gate-queue"), {"team": legal.pk}).content.decode()
    assert promise.title in everything and later.title in everything
    assert later.title in narrowed and promise.title not in narrowed


def test_the_queue_runs_the_same_queries_for_3_and_30_gates(client, make_promise, seller, service_user,
                                                              django_assert_max_num_queries):
    def queue_queries() -> int:
        client.force_login(service_user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("web:gate-queue")).status_code == 200
        return len(queries)

    customers = [Customer.objects.create(name=f"Customer {i}") for i in range(30)]
    for i in range(3):
        submitted(make_promise, seller, title=f"Promise {i}", customer=customers[i])
    few = queue_queries()
    for i in range(3, 30):
        submitted(make_promise, seller, title=f"Promise {i}", customer=customers[i])
    many = queue_queries()
    assert few == many
    with django_assert_max_num_queries(13):
        client.get(reverse("web:gate-queue"))


# --- the decision page ------------------------------------------------------------------------

def test_the_decision_page_shows_the_promise_evidence_and_checklist(client, service_user, open_gate,
                                                                     django_assert_max_num_queries):
    client.force_login(service_user)
    with django_assert_max_num_queries(13):
        response = client.get(decide_url(open_gate))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Technician on site within 4 hours" in body and "≤ <strong>4 h</strong>" in body
    assert open_gate.promise.customer.name in body and "seller" in body
    assert "Evidence" in body
    for check in open_gate.checks.all():
        assert check.text in criterion_block(body, check.pk)
    must = open_gate.checks.get(requirement="must")
    assert "must meet" in criterion_block(body, must.pk)
    assert "web/gates.js" in body and "<script>" not in body


def test_evidence_criteria_come_pre_filled_and_deciding_against_them_needs_a_reason(
        client, history, seller, service_user, promise_in):  # noqa: F811
    # given a gate whose evidence criterion was pre-filled "not met" (5 of 10 achieved 4 h)
    review = _submitted_gate(seller, promise_in("4"))
    evidence_check = review.checks.get(kind="evidence")
    client.force_login(service_user)
    # when the gatekeeper opens the page
    body = client.get(decide_url(review)).content.decode()
    # then the stored figures are shown and the criterion is ticked as the evidence says
    assert "50 %" in body and "(5 / 10)" in body
    block = criterion_block(body, evidence_check.pk)
    assert "from evidence" in block and re.search(r'value="not_met"[^>]*checked', block)
    # and "all met" against the evidence without a reason is refused next to that criterion
    refused = client.post(decide_url(review), {"all_met": "1"})
    assert refused.status_code == 400
    assert "give the reason in the note" in criterion_block(refused.content.decode(), evidence_check.pk)
    # with the reason it passes
    response = client.post(decide_url(review), {"all_met": "1", f"note_{evidence_check.pk}": "New hires in March"})
    assert response.status_code == 302
    assert GateReview.objects.get(pk=review.pk).state == ReviewState.PASSED


def test_all_met_decides_a_go_and_returns_to_the_queue(client, service_user, open_gate):
    client.force_login(service_user)
    response = client.post(decide_url(open_gate), {"all_met": "1"}, follow=True)
    review = GateReview.objects.get(pk=open_gate.pk)
    assert review.state == ReviewState.PASSED and review.decided_by == service_user
    assert set(review.checks.values_list("result", flat=True)) == {CheckResult.MET}
    assert response.redirect_chain[-1][0] == reverse("web:gate-queue")
    assert "decided: Go" in response.content.decode()


def test_a_go_with_a_must_meet_criterion_unmet_is_refused_next_to_it(client, service_user, open_gate):
    must = open_gate.checks.get(requirement="must")
    should = open_gate.checks.get(requirement="should")
    client.force_login(service_user)
    before = db_snapshot()
    response = client.post(decide_url(open_gate), {
        "decision": "go", f"check_{must.pk}": "not_met", f"check_{should.pk}": "met"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Go needs every must-meet criterion met" in criterion_block(body, must.pk)
    assert "Go needs every must-meet criterion met" not in criterion_block(body, should.pk)
    # the page keeps what was ticked, and nothing was written
    assert re.search(r'value="not_met"[^>]*checked', criterion_block(body, must.pk))
    assert db_snapshot() == before


def test_kill_without_a_comment_is_refused_at_the_comment(client, service_user, open_gate):
    client.force_login(service_user)
    response = client.post(decide_url(open_gate), {"decision": "kill", "comment": "  "})
    body = response.content.decode()
    assert response.status_code == 400
    comment_field = body[body.index('id="id_comment"'):]
    assert "needs a comment giving the reasons" in comment_field[:600]
    assert GateReview.objects.get(pk=open_gate.pk).state == ReviewState.OPEN


def test_a_conditional_go_carries_its_condition(client, clock, service_user, seller, make_promise):  # noqa: F811
    review = open_review(submitted(make_promise, seller))
    client.force_login(service_user)
    response = client.post(decide_url(review), {
        "all_met": "1",
        "conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "0",
        "conditions-0-description": "Spare parts stocked in Munich", "conditions-0-owner": str(seller.pk),
        "conditions-0-due": "2027-01-29",
    })
    assert response.status_code == 302
    condition = GateReview.objects.get(pk=review.pk).conditions.get()
    assert condition.owner == seller and condition.description == "Spare parts stocked in Munich"
    assert condition.due_at.astimezone(clock.current.tzinfo).strftime("%Y-%m-%d %H:%M") == "2027-01-29 17:00"


def test_a_condition_due_in_the_past_is_refused_next_to_it(client, clock, service_user, seller, open_gate):  # noqa: F811
    client.force_login(service_user)
    response = client.post(decide_url(open_gate), {
        "all_met": "1",
        "conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "0",
        "conditions-0-description": "Spare parts stocked", "conditions-0-owner": str(seller.pk),
        "conditions-0-due": "2020-01-01",
    })
    body = response.content.decode()
    assert response.status_code == 400
    assert 'class="field-error condition-error">A condition&#x27;s due date must lie in the future.' in body


def test_a_stale_page_deciding_an_already_decided_gate_says_who_decided_it(
        client, service_user, service_user2, open_gate):
    # given the page open for one gatekeeper, while a colleague decides the gate first
    client.force_login(service_user)
    assert client.get(decide_url(open_gate)).status_code == 200
    decide_go(open_gate.promise, service_user2)
    # when the first one submits
    response = client.post(decide_url(open_gate), {"all_met": "1"})
    body = response.content.decode()
    # then the page says so plainly, with a link to the promise
    assert response.status_code == 409
    assert "This gate was already decided by servicer2 at" in body and ": Passed" in body
    assert reverse("web:promise-detail", args=[open_gate.promise_id]) in body
    assert GateReview.objects.get(pk=open_gate.pk).decided_by == service_user2


# --- German ---------------------------------------------------------------------------------------

def test_the_queue_and_the_decision_page_speak_german(client, service_user, open_gate):
    client.force_login(service_user)
    client.cookies["django_language"] = "de"
    queue = client.get(reverse("web:gate-queue")).content.decode()
    assert "Offene Gates, nächste Fälligkeit zuerst" in queue and "Entscheiden" in queue
    assert re.search(r"fällig in|überfällig", queue)
    page = client.get(decide_url(open_gate)).content.decode()
    assert "Entscheidung speichern" in page and "muss erfüllt sein" in page and "Evidenz" in page
    must = open_gate.checks.get(requirement="must")
    should = open_gate.checks.get(requirement="should")
    refused = client.post(decide_url(open_gate), {"decision": "go", f"check_{must.pk}": "not_met",
                                                  f"check_{should.pk}": "met"}).content.decode()
    assert "Ein Go erfordert, dass jedes Muss-Kriterium erfüllt ist" in criterion_block(refused, must.pk)


# --- the time-left badge ----------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "paused", "text", "tone"), [
    (3 * 3600, False, "due in 3 h", "warn"),               # under one working day: soon
    (11 * 3600, False, "due in 1 d 2 h", "ok"),            # a day is a working day of 9 h, not 24
    (-(9 + 2) * 3600, False, "overdue by 1 d 2 h", "danger"),
    (-25 * 60, False, "overdue by 25 min", "danger"),
    (4 * 3600, True, "on hold, 4 h left", "neutral"),      # the clock is stopped: not overdue
])
def test_the_badge_says_the_time_left_in_working_time_in_words(seconds, paused, text, tone):
    from qualitygates.selectors import TimeLeft
    from web.gate_rows import time_left_badge

    with translation.override("en"):
        badge = time_left_badge(TimeLeft(seconds=seconds, working_day=9 * 3600, paused=paused))
    assert (badge.text, badge.tone) == (text, tone)
