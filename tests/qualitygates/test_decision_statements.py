"""How many statements a decision sends: the write path stays lean (bench/decisions.py measures its
rate against the same statements sent by hand). Each number is the statements listed beside it."""

from __future__ import annotations

import pytest

from core.roles import team_ids
from promises.trail_verify import trail_chain_breaks
from qualitygates import services as gs
from tests.factories import all_checks_met
from tests.gate_flow import decide_go, open_review, submitted

pytestmark = pytest.mark.django_db

# lock promise + review, read the checks, save them, save the review, read the next gate (with its
# team's calendar), the evidence figures, open the next gate, the trail's last hash, the trail rows,
# the outbox rows; and the summaries of a passed gate (qualitygates/summaries.py): its lead-time
# histogram row and its gate-escape tally
GO_OPENING_THE_NEXT_GATE = 12
# the same up to the next gate (none left), then the promise's own transition: its UPDATE, its trail
# row (savepoint, promise lock, last hash, INSERT, release) and its outbox row; and the passed gate's
# two summary rows
GO_COMPLETING_THE_STEP = 17
# Inside the test's transaction the service's own transaction is a savepoint: SAVEPOINT and RELEASE.
SAVEPOINT = 2


def test_a_go_that_opens_the_next_gate(make_promise, seller, service_user, django_assert_num_queries):
    # Given a promise whose first gate is open, and the decider's teams read (as the request's
    # permission check has read them)
    review = open_review(submitted(make_promise, seller))
    team_ids(service_user)
    checks = all_checks_met(review)
    # When the service team says go
    with django_assert_num_queries(GO_OPENING_THE_NEXT_GATE + SAVEPOINT):
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=checks)
    # Then the trail is still one unbroken chain
    assert trail_chain_breaks()[1] == []


def test_a_go_that_completes_the_approval_step(make_promise, seller, service_user, legal_user,
                                              django_assert_num_queries):
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)
    review = open_review(promise)
    team_ids(legal_user)
    checks = all_checks_met(review)
    with django_assert_num_queries(GO_COMPLETING_THE_STEP + SAVEPOINT):
        gs.gate_decide(review_id=review.pk, user=legal_user, decision="go", checks=checks)
    assert trail_chain_breaks()[1] == []
