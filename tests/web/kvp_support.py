"""Fixtures of the dashboard and KVP page tests: promises driven through their gates to a verified
outcome, and improvement items moved along the board — all through the services.

Import the fixtures a test module needs explicitly (`from tests.web.kvp_support import outcome`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from feedback.services import improvements as kvp
from feedback.services.targets import TargetInput
from promises import services as ps
from tests.factories import UserFactory
from tests.gate_flow import decide_go


@pytest.fixture
def deliver(make_promise, seller, service_user, legal_user, delivery_user):
    """A promise through approval and handover into delivery (every gate decided go)."""

    def run(**overrides):
        promise = make_promise(**overrides)
        ps.promise_submit(promise_id=promise.pk, user=seller)
        decide_go(promise, service_user)
        decide_go(promise, legal_user)
        ps.promise_commit(promise_id=promise.pk, user=seller)
        ps.promise_handover(promise_id=promise.pk, user=seller)
        decide_go(promise, delivery_user)
        promise.refresh_from_db()
        return promise

    return run


@pytest.fixture
def outcome(deliver, seller):
    """A promise verified kept (actual 3 h against ≤ 4 h) or broken (actual 6 h)."""

    def run(*, kept: bool, **overrides):
        promise = deliver(**overrides)
        ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3") if kept else Decimal("6"),
                          reason="" if kept else "technician unavailable")
        promise.refresh_from_db()
        return promise

    return run


@pytest.fixture
def item_owner(db):
    return UserFactory(username="kvp-owner", teams=["service"])


@pytest.fixture
def propose(service_user):
    def run(title: str = "Shorter call-back times", *, user=None, **links):
        return kvp.improvement_propose(user=user or service_user, title=title, **links)

    return run


def plan_input(metric, *, deadline) -> list[TargetInput]:
    return [TargetInput(metric=metric, baseline=Decimal("6"), target_value=Decimal("4"), deadline=deadline)]
