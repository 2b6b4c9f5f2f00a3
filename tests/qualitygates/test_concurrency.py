"""Two people deciding the same gate at the same moment, each on their own PostgreSQL connection:
exactly one wins, the other gets a conflict, and the trail holds one decision."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from core.errors import Conflict
from notifications.models import EventKind, OutboxEvent
from promises.models import PromiseState, TransitionLog
from qualitygates import services as gs
from qualitygates.models import GateReview, ReviewState
from tests.factories import UserFactory, all_checks_met
from tests.gate_flow import open_review, refreshed, submitted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
DECISIONS = ("go", "kill", "hold", "recycle")


def race(review, contenders: list[tuple]) -> list[object]:
    """Run gate_decide for each (user, decision) in its own thread and connection, released together."""
    barrier = threading.Barrier(len(contenders))
    outcomes: list[object] = [None] * len(contenders)
    checks = all_checks_met(review)

    def decide(i: int, user, decision: str) -> None:
        try:
            connection.ensure_connection()  # connect first, so the start line is the decision itself
            barrier.wait(timeout=10)
            outcomes[i] = gs.gate_decide(review_id=review.pk, user=user, decision=decision, comment="Decided",
                                         checks=checks)
        except Exception as exc:  # noqa: BLE001  (the test asserts on whatever came back)
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(i, user, decision))
               for i, (user, decision) in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a decider hung"
    return outcomes


def blocked_by_me() -> int:
    """Sessions waiting for a lock this connection holds."""
    # pg_locks, not pg_stat_activity: the latter is a snapshot frozen for the rest of the transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        return cursor.fetchone()[0]


@pytest.fixture
def winner_waits_for_the_rival(monkeypatch):
    """Whoever takes the row locks first holds them until the other decider is seen waiting for them,
    so every round is a real collision, not two calls that happen to run one after the other."""
    real_lock = gs._lock
    guard = threading.Lock()
    seen: dict[str, object] = {"first": None, "collisions": 0}

    def lock_then_wait(review_id):
        locked = real_lock(review_id)
        with guard:
            first = seen["first"] is None
            if first:
                seen["first"] = threading.get_ident()
        if first:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if blocked_by_me():
                    seen["collisions"] += 1
                    break
                time.sleep(0.005)
        return locked

    monkeypatch.setattr(gs, "_lock", lock_then_wait)

    def next_round() -> None:
        seen["first"] = None

    next_round.seen = seen
    return next_round


def assert_one_decision(review, outcomes, deciders) -> GateReview:
    winners = [o for o in outcomes if isinstance(o, GateReview)]
    losers = [o for o in outcomes if not isinstance(o, GateReview)]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(outcomes) - 1
    for loser in losers:
        assert isinstance(loser, Conflict), repr(loser)
        assert loser.code == "already_decided"
        assert loser.http_status == 409
    review.refresh_from_db()
    assert review.decided_by in deciders
    decisions = TransitionLog.objects.filter(gate_review=review, subject="gate", action__in=DECISIONS)
    assert decisions.count() == 1
    assert OutboxEvent.objects.filter(payload__gate_review__id=review.pk, kind=EventKind.GATE_DECIDED).count() == 1
    return review


def test_two_goes_at_the_same_moment_one_wins_and_one_set_of_gates_opens(
        winner_waits_for_the_rival, make_promise, seller, service_user, service_user2):
    for _ in range(ROUNDS):
        # Given a promise with its feasibility gate open
        promise = submitted(make_promise, seller)
        review = open_review(promise)
        winner_waits_for_the_rival()

        # When two members of the service team say go at the same moment
        outcomes = race(review, [(service_user, "go"), (service_user2, "go")])

        # Then one go counts, the other is a conflict, and exactly the next gate is open
        review = assert_one_decision(review, outcomes, {service_user, service_user2})
        assert review.state == ReviewState.PASSED
        open_gates = GateReview.objects.filter(promise=promise, state=ReviewState.OPEN)
        assert list(open_gates.values_list("name", flat=True)) == ["Legal check"]
        assert TransitionLog.objects.filter(promise=promise, action="open").count() == 2
        assert refreshed(promise).state == PromiseState.IN_REVIEW

    assert winner_waits_for_the_rival.seen["collisions"] == ROUNDS, "every round must be a real collision"


def test_go_against_kill_at_the_same_moment_leaves_one_consistent_outcome(
        winner_waits_for_the_rival, make_promise, seller, service_user, service_user2):
    for i in range(ROUNDS):
        promise = submitted(make_promise, seller)
        review = open_review(promise)
        winner_waits_for_the_rival()
        contenders = [(service_user, "go"), (service_user2, "kill")]
        if i % 2:
            contenders.reverse()

        outcomes = race(review, contenders)

        review = assert_one_decision(review, outcomes, {service_user, service_user2})
        promise = refreshed(promise)
        if review.state == ReviewState.PASSED:
            assert promise.state == PromiseState.IN_REVIEW
            assert list(GateReview.objects.filter(promise=promise, state="open").values_list("name", flat=True)) == [
                "Legal check"]
        else:
            assert review.state == ReviewState.FAILED
            assert promise.state == PromiseState.REJECTED
            assert not GateReview.objects.filter(promise=promise, state__in=["open", "pending"]).exists()
        assert TransitionLog.objects.filter(promise=promise, subject="promise").exclude(action="submit").count() == (
            0 if review.state == ReviewState.PASSED else 1)

    assert winner_waits_for_the_rival.seen["collisions"] == ROUNDS


def test_three_deciders_released_together_without_any_help(make_promise, seller, service_user, service_user2):
    # No hook here: the plain barrier start, as it happens in production
    third = UserFactory(username="servicer3", teams=["service"])
    for _ in range(ROUNDS):
        promise = submitted(make_promise, seller)
        review = open_review(promise)

        outcomes = race(review, [(service_user, "go"), (service_user2, "recycle"), (third, "hold")])

        review = assert_one_decision(review, outcomes, {service_user, service_user2, third})
        assert GateReview.objects.filter(promise=promise, state__in=["open", "on_hold"]).count() <= 1
