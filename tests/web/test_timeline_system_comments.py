"""The gate engine's own notes in the trail ("Recycled at gate …", "All gates of step … passed.") read
in the reader's language on the promise page; a person's comment stays as written."""

import pytest
from django.urls import reverse

from tests.gate_flow import approved, decide, submitted

pytestmark = pytest.mark.django_db


def page(client, user, promise, language: str) -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(reverse("web:promise-detail", args=[promise.pk])).content.decode()


def test_a_recycled_promise_tells_the_engines_note_in_german(client, make_promise, seller, service_user,
                                                             django_assert_max_num_queries):
    promise = submitted(make_promise, seller)
    review = decide(promise, service_user, "recycle", comment="Not enough technicians in the region.")
    with django_assert_max_num_queries(40):
        german = page(client, seller, promise, "de")
    english = page(client, seller, promise, "en")
    assert f"Am Gate „{review.name}“ zurückverwiesen." in german and "Recycled at gate" not in german
    assert f"Recycled at gate “{review.name}”." in english
    assert "Not enough technicians in the region." in german  # the gatekeeper's words, as written


def test_an_approved_promise_tells_the_completed_step_in_german(client, make_promise, seller, service_user,
                                                                legal_user):
    promise = approved(make_promise, seller, service_user, legal_user)
    german = page(client, seller, promise, "de")
    assert "Alle Gates des Schritts „Vor der Freigabe“ bestanden." in german
    assert "All gates of step" not in german

