"""Who hears of a gate's event (qualitygates/events.py) and what its payload carries."""

from __future__ import annotations

import pytest
from django.utils import translation

from core import roles
from notifications.models import EventKind, OutboxEvent
from notifications.recipients import Recipients
from promises import services as ps
from qualitygates import services as gs
from qualitygates.events import decision_label
from qualitygates.models import ReviewState


@pytest.fixture
def submitted(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    return promise


def recipients_of(kind) -> Recipients:
    return Recipients.from_json(OutboxEvent.objects.filter(kind=kind).latest("id").recipients)


def test_the_owning_team_hears_its_gate_opened(submitted, service_user):
    review = submitted.gate_reviews.get(state=ReviewState.OPEN)
    assert recipients_of(EventKind.GATE_OPENED) == Recipients(team_ids=(review.owning_team_id,))
    event = OutboxEvent.objects.get(kind=EventKind.GATE_OPENED)
    assert event.subject == f"promise:{submitted.pk}"
    assert event.payload["gate_review"]["id"] == review.pk and event.payload["gate"] == review.name
    assert event.payload["title"] == submitted.title and event.payload["commitment"] == submitted.commitment
    assert event.payload["link"] == f"/gates/{review.pk}/decide/", "the team decides it on the decision page"


def test_the_owner_hears_the_decision_with_its_label_untranslated(submitted, service_user, seller):
    review = submitted.gate_reviews.get(state=ReviewState.OPEN)
    with translation.override("de"):  # the decider works in German; the owner may not
        gs.gate_decide(review_id=review.pk, user=service_user, decision="hold", comment="Waiting")
    assert recipients_of(EventKind.GATE_DECIDED) == Recipients(user_ids=(seller.pk,))
    payload = OutboxEvent.objects.get(kind=EventKind.GATE_DECIDED).payload
    assert (payload["decision"], payload["decision_label"]) == ("hold", "Hold")
    assert payload["link"] == f"/promises/{submitted.pk}/", "the owner reads the verdict on the promise's page"
    assert decision_label("kill") == "Kill"


def test_an_escalation_goes_to_the_managers(submitted):
    from qualitygates.clock import gate_escalations_send

    review = submitted.gate_reviews.get(state=ReviewState.OPEN)
    assert gate_escalations_send(now=review.due_at) == 1
    assert recipients_of(EventKind.GATE_ESCALATED) == Recipients(group_names=(roles.MANAGERS,))
    assert recipients_of(EventKind.GATE_OVERDUE) == Recipients(team_ids=(review.owning_team_id,))
    # the team decides on the decision page; the managers, who may not decide it, read the promise's page
    assert OutboxEvent.objects.get(kind=EventKind.GATE_OVERDUE).payload["link"] == f"/gates/{review.pk}/decide/"
    assert OutboxEvent.objects.get(kind=EventKind.GATE_ESCALATED).payload["link"] == f"/promises/{submitted.pk}/"
