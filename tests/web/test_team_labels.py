"""Teams are named as their readers call them ("Recht", "Legal"), not by their group name ("legal"):
in the gate queue, the decide page and the gate rows of My work."""

import pytest
from django.urls import reverse

from tests.gate_flow import decide_go, open_review, submitted

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "label"), [("de", "Recht"), ("en", "Legal")])
def test_the_legal_teams_gate_is_labelled_in_the_readers_language(
        client, make_promise, seller, service_user, legal_user, language, label, django_assert_max_num_queries):
    # given a promise whose legal gate is open
    promise = submitted(make_promise, seller)
    decide_go(promise, service_user)
    review = open_review(promise)
    client.force_login(legal_user)
    client.cookies["django_language"] = language
    # when the legal gatekeeper opens the queue, the decide page and My work
    with django_assert_max_num_queries(20):
        queue = client.get(reverse("web:gate-queue")).content.decode()
    decide = client.get(reverse("web:gate-decide", args=[review.pk])).content.decode()
    home = client.get(reverse("web:home")).content.decode()
    # then the team is called by its label everywhere, never by the group's name
    assert f">{label}</td>" in queue
    assert f"<span>{label} ·" in decide
    assert f'class="nowrap">{label}</td>' in home
    assert ">legal<" not in queue + decide + home
