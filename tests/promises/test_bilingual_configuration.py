"""Configuration is kept in English and German: a category's name and description, a gate's name and
a criterion's text show in the reader's language, and a promise's gates keep both in their snapshot."""

from __future__ import annotations

import pytest
from django.utils import translation

from demo.catalogue import CATEGORIES
from qualitygates.models import GateCheck, GateCriterion, GateDefinition, GateReview
from tests.gate_flow import submitted

pytestmark = pytest.mark.django_db


def test_a_category_reads_in_the_readers_language_and_falls_back_to_english(category):
    category.name_de, category.description_de = "Vor-Ort-Service", "Techniker vor Ort."
    category.description = "Technician on site."
    category.save()
    with translation.override("de"):
        assert (str(category), category.display_description) == ("Vor-Ort-Service", "Techniker vor Ort.")
    with translation.override("en"):
        assert (str(category), category.display_description) == ("On-site service", "Technician on site.")
    category.name_de = ""
    with translation.override("de"):
        assert category.display_name == "On-site service"


def test_the_gates_of_a_promise_keep_both_languages_of_their_plan(make_promise, seller, category):
    # given the plan's first gate and its criteria have German wording
    definition = GateDefinition.objects.get(plan__category=category, name="Feasibility")
    definition.name_de = "Machbarkeit"
    definition.save()
    GateCriterion.objects.filter(definition=definition, order=1).update(text_de="Kapazität bestätigt")
    # when a promise is submitted, its gates are a snapshot of the plan
    promise = submitted(make_promise, seller)
    review = GateReview.objects.get(promise=promise, name="Feasibility")
    check = GateCheck.objects.get(review=review, order=1)
    # then the snapshot shows German to a German reader, English to everyone else
    with translation.override("de"):
        assert (review.display_name, check.display_text) == ("Machbarkeit", "Kapazität bestätigt")
    with translation.override("en"):
        assert (review.display_name, check.display_text) == ("Feasibility", "Feasibility: capacity confirmed")


def test_the_demo_configuration_has_german_for_every_category_gate_and_criterion():
    missing = []
    for name, name_de, _slug, _days, description, description_de, gates in CATEGORIES:
        missing += [name for text in (name_de, description_de) if not text or text in (name, description)]
        for gate in gates:
            missing += [gate.name] if not gate.name_de or gate.name_de == gate.name else []
            missing += [text for _req, text, text_de in gate.criteria if not text_de or text_de == text]
    assert missing == []


def test_a_metric_unit_that_is_a_word_reads_in_german(make_promise, category):
    from promises.metrics import metric_create
    from tests.factories import UserFactory

    manager = UserFactory(username="unit-manager", teams=["managers"])
    metric = metric_create(user=manager, name="lead time", name_de="Lieferzeit", unit="working days",
                           unit_de="Arbeitstage", direction="lower", kind="calendar_days", categories=[category])
    promise = make_promise(metric=metric, target_value=10)
    with translation.override("de"):
        assert (promise.commitment, str(metric)) == ("Lieferzeit ≤ 10 Arbeitstage", "Lieferzeit (Arbeitstage)")
    with translation.override("en"):
        assert promise.commitment == "lead time ≤ 10 working days"
    # the unit a target is checked against stays the one unit of the catalogue
    assert promise.unit == "working days"


def test_messages_name_the_gate_and_the_commitment_in_each_recipients_language(
        make_promise, seller, category, service_user, service_user2):
    from django.core import mail

    from notifications.user_settings import notification_profile_set_language
    from tests.outbox_support import drain

    GateDefinition.objects.filter(plan__category=category, name="Feasibility").update(name_de="Machbarkeit")
    notification_profile_set_language(user=service_user, language="de")
    notification_profile_set_language(user=service_user2, language="en")
    # when the promise is submitted (by an English-reading seller), its first gate opens for the service team
    with translation.override("en"):
        submitted(make_promise, seller)
    drain()
    german = next(m for m in mail.outbox if m.to == [service_user.email])
    english = next(m for m in mail.outbox if m.to == [service_user2.email])
    assert "Gate „Machbarkeit“" in german.subject and "response time (de) ≤ 4 h" in german.body
    assert "Gate “Feasibility”" in english.subject and "response time ≤ 4 h" in english.body
