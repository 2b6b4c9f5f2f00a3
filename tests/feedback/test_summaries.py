"""The summary rows the read side uses equal a full recomputation from the raw rows, after changes made
through the services (the demo's whole story, and verifications taken back), and the check names
a difference and repairs it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.tallies import tally_add
from feedback.models import FeedbackChannel, FeedbackKind
from feedback.services.intake import feedback_record
from feedback.summaries_check import summaries_compare
from promises import services as ps
from promises.models import PromiseDay
from qualitygates.models import GateEscapeTally
from tests.feedback.conftest import START

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.KVP_EARLY_WARNING_WINDOW = 1000
    settings.KVP_GATE_ESCAPE_MIN_PASSED = 1000


def test_the_demo_story_leaves_summaries_equal_to_a_recomputation(db):
    # Given the demo seeded through the services (every state, gates decided, feedback, improvements)
    call_command("seed_demo", stdout=StringIO())
    # Then the summaries kept along the way equal the recomputation, and the command says so.
    assert summaries_compare() == []
    out = StringIO()
    call_command("kvp_summaries", stdout=out)
    assert "equal a full recomputation" in out.getvalue()
    assert PromiseDay.objects.exists() and GateEscapeTally.objects.filter(passed__gt=0).exists()


def test_a_reopened_verification_and_recorded_feedback_move_the_summaries(kvp_clock, outcome, seller, category,
                                                                          service_user):
    # Given promises verified kept and broken, and feedback with scores
    outcome(kept=True, clock=kvp_clock, gate_minutes=60)
    broken = outcome(kept=False, reason="spare part missing", clock=kvp_clock, gate_minutes=90)
    feedback_record(user=service_user, kind=FeedbackKind.PRAISE, channel=FeedbackChannel.PHONE, category=category,
                    csat_score=5, nps_score=10, text="Great")
    # When a broken promise's verification is taken back and verified again as kept
    from promises.models import ServicePromise
    from qualitygates.models import GateReview, ReviewState
    from tests.factories import all_checks_met  # noqa: F401  (the closure gate is recycled below)

    closure = GateReview.objects.filter(promise=broken, state=ReviewState.OPEN).first()
    if closure is not None:
        from qualitygates import services as gs

        gs.gate_decide(review_id=closure.pk, user=service_user if closure.owning_team.name == "service" else
                       closure.owning_team.user_set.first(), decision="recycle", comment="measured wrongly")
        kvp_clock.advance(days=1)
        ps.promise_verify(promise_id=broken.pk, user=seller, actual_value=Decimal("3"), reason="")
        assert ServicePromise.objects.get(pk=broken.pk).kept
    # Then the summaries still equal the recomputation.
    assert summaries_compare() == []


def test_the_check_names_a_difference_and_fix_repairs_it(kvp_clock, outcome, category):
    # Given a kept promise and a summary row tampered with behind the services' back
    outcome(kept=True, clock=kvp_clock, gate_minutes=60)
    tally_add("promises_promiseday", key={"category_id": category.pk, "day": (START - dt.timedelta(days=3)).date()},
              deltas={"broken": 2})
    # When checked, the command fails and names the row
    out = StringIO()
    with pytest.raises(CommandError, match="1 summary rows differ"):
        call_command("kvp_summaries", stdout=out)
    assert "promises_promiseday" in out.getvalue() and "'broken': 2" in out.getvalue()
    # And --fix rewrites the summaries from the raw rows.
    call_command("kvp_summaries", "--fix", "--quiet", stdout=StringIO())
    assert summaries_compare() == []
