"""One keep rule: `ServicePromise.kept` (Python) and `kept_q` / `broken_q` (SQL) agree on every case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from promises import services as promise_services
from promises.models import PromiseState, ServicePromise
from promises.outcomes import broken_q, kept_q
from tests.factories import *  # noqa: F403
from tests.gate_flow import in_delivery

CASES = [
    # comparison, target, actual, kept
    ("lte", "4", "3.5", True),
    ("lte", "4", "4", True),
    ("lte", "4", "4.25", False),
    ("gte", "99.5", "99.9", True),
    ("gte", "99.5", "98", False),
    ("eq", "1", "1", True),
    ("eq", "1", "2", False),
]


@pytest.mark.parametrize(("comparison", "target", "actual", "kept"), CASES)
def test_python_and_sql_keep_rules_agree(make_promise, seller, service_user, legal_user, delivery_user,
                                         comparison, target, actual, kept):
    # given a promise in delivery with this commitment
    promise = in_delivery(lambda **kw: make_promise(comparison=comparison, target_value=Decimal(target), **kw),
                          seller, service_user, legal_user, delivery_user)
    # when it is verified with this actual value
    promise = promise_services.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal(actual),
                                               reason="" if kept else "Technician stuck in traffic")
    # then the state, the model's rule and both SQL conditions say the same
    assert promise.kept is kept
    assert promise.state == (PromiseState.FULFILLED if kept else PromiseState.BROKEN)
    assert ServicePromise.objects.filter(kept_q(), pk=promise.pk).exists() is kept
    assert ServicePromise.objects.filter(broken_q(), pk=promise.pk).exists() is (not kept)


def test_an_unverified_promise_is_neither_kept_nor_broken(make_promise):
    promise = make_promise()
    assert promise.kept is None
    assert not ServicePromise.objects.filter(kept_q() | broken_q(), pk=promise.pk).exists()
