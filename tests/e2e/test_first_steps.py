"""In a real browser: a seller signs in and lands on their home without sideways scrolling at
desktop and phone width; a customer opens the status page of a verified promise on a phone and
rates it, in English and in German."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from feedback.models import Feedback, FeedbackSource
from promises import services as ps
from tests.gate_flow import in_delivery, refreshed

from .conftest import assert_no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_a_seller_signs_in_and_lands_on_home_at_desktop_and_phone_width(new_page, screenshot, live_server,
                                                                       demo_seller):
    page = new_page()
    page.goto("/")
    # signed out, the home page sends the seller to sign in
    assert "/accounts/login/" in page.url
    screenshot(page, "sign-in")
    assert_no_horizontal_scroll(page, 390)
    sign_in(page, "sales")
    assert page.url == f"{live_server.url}/"
    for width in (1280, 390):
        assert_no_horizontal_scroll(page, width)
        screenshot(page, f"home-{width}")
    assert page.get_by_role("button", name="Sign out sales").is_visible()
    assert page.problems == []


@pytest.mark.parametrize(("lang", "labels"), [
    ("en", {"kept": "Yes", "send": "Send", "thanks": "Thank you for your rating.", "rating": "Your rating: 5 of 5."}),
    ("de", {"kept": "Ja", "send": "Senden", "thanks": "Vielen Dank für Ihre Bewertung.",
            "rating": "Ihre Bewertung: 5 von 5."}),
])
def test_the_customer_rates_a_verified_promise_on_a_phone(
        lang, labels, new_page, screenshot, make_promise, seller, service_user, legal_user, delivery_user, customer):
    # given a promise verified kept, whose customer reads the page in their browser's language
    customer.language = ""
    customer.save(update_fields=["language"])
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"), reason="")
    promise = refreshed(promise)
    page = new_page(lang=lang, phone=True)
    # when they open the link from their e-mail on a phone
    page.goto(f"/status/{promise.status_token}/")
    assert page.locator("html").get_attribute("lang") == lang
    assert_no_horizontal_scroll(page)
    screenshot(page, "status-verified-phone", lang=lang)
    # then the answers are large enough to tap
    choice = page.locator("label.choice").first.bounding_box()
    assert choice["height"] >= 44 and choice["width"] >= 44
    # an answer left out is named next to its question
    page.get_by_role("button", name=labels["send"]).tap()
    expect(page.locator("#id_kept_as_seen-error")).to_be_visible()
    expect(page.locator("#id_csat_score-error")).to_be_visible()
    screenshot(page, "status-rating-errors-phone", lang=lang)
    # and when they answer and send
    page.locator("label.choice", has_text=labels["kept"]).tap()
    page.locator("label.choice", has_text="5").tap()
    page.get_by_role("textbox").fill("Pünktlich und freundlich." if lang == "de" else "On time and friendly.")
    page.get_by_role("button", name=labels["send"]).tap()
    # then the page thanks them, shows their rating, and the rating is stored as the customer's feedback
    expect(page.get_by_text(labels["thanks"])).to_be_visible()
    expect(page.get_by_text(labels["rating"])).to_be_visible()
    assert_no_horizontal_scroll(page)
    screenshot(page, "status-rated-phone", lang=lang)
    rating = Feedback.objects.get(promise=promise, source=FeedbackSource.CUSTOMER)
    assert (rating.kept_as_seen, rating.csat_score) == (True, 5)
    # and at desktop width the page needs no sideways scrolling either
    assert_no_horizontal_scroll(page, 1280)
    screenshot(page, "status-rated-desktop", lang=lang)
    assert page.problems == []
