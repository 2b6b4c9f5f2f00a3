"""The managers' weekly KVP digest: once per ISO week, with open improvements, broken promises and
overdue gates."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from feedback import digest as kvp_digest
from notifications.models import EventKind
from promises import services as ps
from tests.clock_support import at, recipients
from tests.outbox_support import drain


def test_weekly_digest_once_per_week(wall_clock, make_promise, seller, manager, service_user,
                                     django_assert_max_num_queries):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)  # its gate is due Tuesday 12:00
    monday = at(2027, 3, 15, 7, 0)
    with django_assert_max_num_queries(8):
        kvp_digest.weekly_digest_figures(now=monday)
    first = kvp_digest.weekly_digest_send(now=monday)
    assert kvp_digest.weekly_digest_send(now=monday + dt.timedelta(days=2)).pk == first.pk
    assert kvp_digest.weekly_digest_send(now=monday + dt.timedelta(days=7)).pk != first.pk
    drain()
    assert first.payload["overdue_gates"] == 1 and first.payload["broken_open"] == 0
    assert first.payload["open_improvements"] == 0
    assert recipients(EventKind.WEEKLY_DIGEST) == ["manager", "manager"]
    digest = [m for m in mail.outbox if m.subject.startswith("Weekly improvement digest")]
    assert len(digest) == 2 and "Overdue gates: 1" in digest[0].body


def test_the_digest_names_each_improvements_state_in_the_managers_language(wall_clock, seller, manager):
    from feedback.services.improvements import improvement_propose
    from notifications.user_settings import notification_profile_set_language

    notification_profile_set_language(user=manager, language="de")
    improvement_propose(user=seller, title="Rückrufoption anbieten")
    event = kvp_digest.weekly_digest_send(now=at(2027, 3, 15, 7, 0))
    assert event.payload["improvement_examples"][0]["state_label"] == "Proposed"
    drain()
    [email] = [m for m in mail.outbox if m.to == [manager.email]]
    assert "Rückrufoption anbieten (Vorgeschlagen)" in email.body
    assert "http://127.0.0.1:8000/dashboard/" in email.body
