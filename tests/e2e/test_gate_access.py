"""In a real browser: a gatekeeper of another team is not offered Decide on a gate, neither in their
queue nor on the promise page, and forcing the decision page's address gets a readable 403 page
in their language, with a way back and no form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import roles
from tests.gate_flow import open_review, submitted

from .conftest import assert_no_horizontal_scroll, demo_user, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TEXT = {
    "en": {"queue": "Gate queue", "decide": "Decide", "forbidden": "Not yours to decide",
           "back": "Back to the gate queue", "save": "Save decision"},
    "de": {"queue": "Gate-Warteschlange", "decide": "Entscheiden", "forbidden": "Nicht Ihre Entscheidung",
           "back": "Zurück zur Gate-Warteschlange", "save": "Entscheidung speichern"},
}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_gatekeeper_of_another_team_is_not_offered_decide_and_is_refused_by_address(
        lang, new_page, screenshot, live_server, make_promise, seller):
    t = TEXT[lang]
    # given a promise whose first gate (service's) is open, and a lawyer reading the product in `lang`
    promise = submitted(make_promise, seller)
    review = open_review(promise)
    assert review.owning_team.name == roles.SERVICE
    demo_user("legal", roles.LEGAL, language=lang)
    page = new_page(lang=lang)
    sign_in(page, "legal")
    # when they open their gate queue: the service gate is not in it
    page.get_by_role("link", name=t["queue"], exact=True).click()
    expect(page.get_by_role("heading", name=t["queue"], exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=promise.title)).to_have_count(0)
    expect(page.get_by_role("link", name=t["decide"])).to_have_count(0)
    screenshot(page, "other-team-gate-queue", lang=lang)
    # and on the promise page (their gate comes next) they are offered no Decide
    page.goto(f"/promises/{promise.pk}/")
    expect(page.get_by_role("heading", name=promise.title)).to_be_visible()
    expect(page.get_by_role("link", name=t["decide"])).to_have_count(0)
    expect(page.locator(f'a[href="/gates/{review.pk}/decide/"]')).to_have_count(0)
    assert_no_horizontal_scroll(page)
    screenshot(page, "other-team-promise", lang=lang)
    # when they force the decision page's address
    response = page.goto(f"/gates/{review.pk}/decide/")
    # then it answers 403 with a readable page in their language, a way back, and nothing to submit
    assert response.status == 403
    expect(page.get_by_role("heading", name=t["forbidden"])).to_be_visible()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_role("link", name=t["back"])).to_be_visible()
    expect(page.get_by_role("button", name=t["save"])).to_have_count(0)
    for width in (1280, 390):
        assert_no_horizontal_scroll(page, width)
        screenshot(page, f"other-team-decide-403-{width}", lang=lang)
    review.refresh_from_db()
    assert review.state == "open" and review.decided_by is None
