"""The customer rates a verified promise on the status page: once, no login, bad input never a 500."""

from __future__ import annotations

from django.urls import reverse

from feedback.models import Feedback


def test_rating_form_appears_once_verified_and_records_once(client, outcome, deliver):
    running = deliver()
    assert 'name="csat_score"' not in client.get(reverse("promise-status", args=[running.status_token])).content.decode()

    promise = outcome(kept=True)
    status_url = reverse("promise-status", args=[promise.status_token])
    rate_url = reverse("promise-rate", args=[promise.status_token])
    assert 'name="csat_score"' in client.get(status_url).content.decode()

    # a wrong score is refused on the page itself, next to its field (tests/promises/test_status_page.py)
    response = client.post(rate_url, {"kept_as_seen": "yes", "csat_score": "9"})
    assert response.status_code == 400 and 'id="id_csat_score-error"' in response.content.decode()
    assert not Feedback.objects.filter(source="customer").exists()

    response = client.post(rate_url, {"kept_as_seen": "yes", "csat_score": "4", "text": "Gut."})
    assert response.status_code == 302 and "rating=thanks" in response["Location"]
    rating = Feedback.objects.get(promise=promise, source="customer")
    assert (rating.csat_score, rating.kept_as_seen, rating.text) == (4, True, "Gut.")

    response = client.post(rate_url, {"kept_as_seen": "no", "csat_score": "1"})
    assert "rating=already" in response["Location"]
    assert Feedback.objects.filter(promise=promise, source="customer").count() == 1
    page = client.get(status_url).content.decode()
    # The page speaks the customer's language (the factory's customers are German).
    assert 'name="csat_score"' not in page and "Ihre Bewertung: 4 von 5." in page
    english = client.get(status_url + "?lang=en").content.decode()
    assert "Your rating: 4 of 5." in english


def test_rating_an_unknown_link_or_with_get(client, db):
    assert client.post(reverse("promise-rate", args=["no-such-token"]), {"kept_as_seen": "yes",
                                                                       "csat_score": "5"}).status_code == 404
    assert client.get(reverse("promise-rate", args=["no-such-token"])).status_code == 405
