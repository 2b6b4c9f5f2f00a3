"""The whole loop in a real browser, once in English and once in German: a maker records a promise
seeing the category's guidance, record, gate plan and evidence before saving, and submits it; the
service gatekeeper finds it first in the queue and decides it with "all met"; legal decides; the
maker commits and hands over; delivery decides; the maker verifies it kept; the customer rates it on
a phone; a manager sees it counted on the dashboard and moves an improvement on the KVP board.

Every page visited is saved under var/e2e-screenshots/<lang>/ and must not scroll sideways, at
1280 px and at 390 px wide; on the German run no English text of the product's catalogues may
show."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback.models import Feedback, FeedbackSource
from notifications.selectors import user_language
from promises.models import Metric, ServicePromise
from qualitygates.models import GateReview

from .conftest import assert_no_horizontal_scroll, sign_in
from .english import english_on_page
from .organisation import build_organisation

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TEXT = {
    "en": {
        "title": "Technician on site within 4 hours – Sonnenhof", "new": "New promise",
        "before": "Before you promise: On-site service response", "kept": "kept", "broken": "broken",
        "typically": "typically", "delivered": "What we delivered: response time",
        "met": "5 of 6 past promises met a target of 4 h (83 %).", "metric": "response time (h)",
        "submit": "Submit for review", "submitted": "Submitted: the first gate is open.", "in_review": "In review",
        "queue": "Gate queue", "decide": "Decide", "decide_heading": "Decide: ", "tick": "Tick all as met",
        "save": "Save decision", "all_met": "Go: all criteria met", "decided": "decided: Go",
        "approved": "Approved", "commit": "Commit to the customer", "committed": "Committed to the customer.",
        "handover": "Hand over to delivery", "handed": "Handed over to delivery.", "in_delivery": "In delivery",
        "delivered_value": "Delivered value", "actual": "3.5", "verify": "Record the delivered value",
        "verified_msg": "Verified.", "fulfilled": "Fulfilled", "status_link": "Customer's status page",
        "yes": "Yes", "send": "Send", "thanks": "Thank you for your rating.", "dashboard": "Dashboard",
        "keep_heading": "Keep rate by month", "verified": "verified", "kept_total": "kept",
        "table": "Figures as a table", "board": "KVP board", "accept": "Accept",
        "accepted": "accepted", "comment": "On time and friendly.",
        "labels": {"title": "Title", "category": "Category", "customer": "Customer", "metric": "Metric",
                   "target": "Target value", "due": "Due date"},
    },
    "de": {
        "title": "Techniker innerhalb von 4 Stunden vor Ort – Sonnenhof", "new": "Neues Leistungsversprechen",
        "before": "Bevor Sie zusagen: Reaktionszeit Vor-Ort-Service", "kept": "eingehalten", "broken": "gebrochen",
        "typically": "typisch", "delivered": "Was wir geliefert haben: Reaktionszeit",
        "met": "5 von 6 bisherigen Leistungsversprechen erreichten ein Ziel von 4 h (83 %).", "metric": "Reaktionszeit (h)",
        "submit": "Zur Prüfung einreichen", "submitted": "Eingereicht: Das erste Gate ist offen.",
        "in_review": "In Prüfung", "queue": "Gate-Warteschlange", "decide": "Entscheiden",
        "decide_heading": "Entscheiden: ", "tick": "Alle als erfüllt markieren", "save": "Entscheidung speichern",
        "all_met": "Go: alle Kriterien erfüllt", "decided": "entschieden: Go", "approved": "Freigegeben",
        "commit": "Dem Kunden verbindlich zusagen", "committed": "Dem Kunden verbindlich zugesagt.",
        "handover": "An die Umsetzung übergeben", "handed": "An die Umsetzung übergeben.",
        "in_delivery": "In Umsetzung", "delivered_value": "Gelieferter Wert", "actual": "3,5",
        "verify": "Gelieferten Wert erfassen", "verified_msg": "Geprüft.", "fulfilled": "Erfüllt",
        "status_link": "Statusseite des Kunden", "yes": "Ja", "send": "Senden",
        "thanks": "Vielen Dank für Ihre Bewertung.", "dashboard": "Dashboard",
        "keep_heading": "Einhaltungsquote nach Monat", "verified": "geprüft", "kept_total": "eingehalten",
        "table": "Zahlen als Tabelle", "board": "KVP-Board", "accept": "Annehmen", "accepted": "angenommen",
        "comment": "Pünktlich und freundlich.",
        "labels": {"title": "Titel", "category": "Kategorie", "customer": "Kunde", "metric": "Kennzahl",
                   "target": "Zielwert", "due": "Fällig am"},
    },
}
OTHER_LANGUAGE = {"en": "de", "de": "en"}


class Visit:
    """Each page visited: no sideways scrolling at 1280 and at 390 px, a screenshot at each width, and on
    the German run no English text of the product's catalogues."""

    def __init__(self, lang: str, screenshot):
        self.lang = lang
        self.screenshot = screenshot
        # The metric catalogue's units are data, kept in one spelling ("h", "working days").
        self.data = set(Metric.objects.values_list("unit", flat=True))

    def __call__(self, page, name: str, *, phone_only: bool = False) -> None:
        if self.lang == "de":
            english = english_on_page(page, data=self.data)
            assert not english, f"{name}: English on the German page: {english}"
        if phone_only:
            assert_no_horizontal_scroll(page)
            self.screenshot(page, f"{name}-phone", lang=self.lang)
            return
        for width in (1280, 390):
            assert_no_horizontal_scroll(page, width)
            self.screenshot(page, f"{name}-{width}", lang=self.lang)
        page.set_viewport_size({"width": 1280, "height": page.viewport_size["height"]})


def open_signed_in(new_page, lang: str, username: str):
    page = new_page(lang=lang)
    sign_in(page, username)
    return page


def page_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def first_open_gate_row(page):
    return page.locator("table.gate-queue").first.locator("tbody tr").first


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_promise_goes_the_whole_loop_through_the_pages(lang, new_page, screenshot, live_server, transactional_db):
    t = TEXT[lang]
    label = t["labels"]
    org = build_organisation(lang=lang, maker_language=OTHER_LANGUAGE[lang])
    visit = Visit(lang, screenshot)

    # 1. The maker signs in (their profile says the other language) and switches in the header.
    maker = open_signed_in(new_page, lang, "sales")
    expect(maker.locator("html")).to_have_attribute("lang", OTHER_LANGUAGE[lang])
    maker.locator("#language-select").select_option(lang)
    expect(maker.locator("html")).to_have_attribute("lang", lang)
    assert user_language(org.users["sales"]) == lang, "the switch is remembered in the maker's profile"
    visit(maker, "step1-maker-home")

    maker.goto("/promises/new/")
    expect(maker.get_by_role("heading", name=t["new"], exact=True)).to_be_visible()
    visit(maker, "step1-new-promise")
    maker.get_by_label(label["title"], exact=True).fill(t["title"])
    maker.get_by_label(label["category"], exact=True).select_option(label=org.category.name_de if lang == "de" else org.category.name)
    # the category's guidance, record and gate plan appear before anything is saved
    panel = maker.locator("#category-panel")
    expect(panel.get_by_role("heading", name=t["before"])).to_be_visible()
    expect(panel.get_by_label(org.guidance_text)).not_to_be_checked()
    expect(panel.locator(".counts li", has_text=t["kept"]).first).to_contain_text(str(org.history_kept))
    expect(panel.locator(".counts li", has_text=t["broken"])).to_contain_text(str(org.history_broken))
    expect(panel.locator(".counts")).to_contain_text("83 %")
    expect(panel.locator("ol.gate-plan li")).to_have_count(4)
    gates = (("Prüfung der Servicekapazität", "Vertrags- und Haftungsprüfung", "Einsatzbereitschaft") if lang == "de"
             else ("Service capacity check", "Contract and liability review", "Dispatch readiness"))
    for gate in gates:
        expect(panel.locator("ol.gate-plan")).to_contain_text(gate)
    expect(panel.locator("ol.gate-plan li").first).to_contain_text(t["typically"])
    maker.get_by_label(label["customer"], exact=True).select_option(label=org.customer.name)
    # the category offers its own metrics; the evidence appears as the target is typed
    maker.get_by_label(label["metric"], exact=True).select_option(label=t["metric"])
    expect(maker.locator("#evidence-panel").get_by_role("heading", name=t["delivered"])).to_be_visible()
    maker.get_by_label(label["target"], exact=True).press_sequentially("4")
    expect(maker.locator("#evidence-panel")).to_contain_text(t["met"])
    maker.get_by_label(label["due"], exact=True).fill((timezone.localdate() + dt.timedelta(days=45)).isoformat())
    assert not ServicePromise.objects.filter(title=t["title"]).exists(), "nothing is saved before the maker submits"
    panel.get_by_label(org.guidance_text).check()
    visit(maker, "step1-new-promise-filled")
    maker.get_by_role("button", name=t["submit"]).click()
    expect(maker.locator(".messages")).to_contain_text(t["submitted"])
    expect(maker.locator(".page-head .pill")).to_have_text(t["in_review"])
    promise = ServicePromise.objects.get(title=t["title"])
    assert maker.url.endswith(f"/promises/{promise.pk}/")
    assert list(promise.guidance_acknowledgements.values_list("guidance__text", flat=True)) == [org.guidance_text]
    visit(maker, "step1-promise-submitted")

    # 2. The service gatekeeper finds it first in the gate queue and decides it with "all met".
    decide_first_in_queue(new_page, visit, lang, t, "service", promise, step=2, shortcut=False)
    # 3. Legal, the second gate team, decides its gate with the "Go: all criteria met" shortcut.
    decide_first_in_queue(new_page, visit, lang, t, "legal", promise, step=3, shortcut=True)

    # 4. The maker commits and hands over on the promise page.
    maker.goto(f"/promises/{promise.pk}/")
    expect(maker.locator(".page-head .pill")).to_have_text(t["approved"])
    visit(maker, "step4-promise-approved")
    maker.get_by_role("button", name=t["commit"]).click()
    expect(maker.locator(".messages")).to_contain_text(t["committed"])
    visit(maker, "step4-promise-committed")
    maker.get_by_role("button", name=t["handover"]).click()
    expect(maker.locator(".messages")).to_contain_text(t["handed"])
    visit(maker, "step4-promise-handed-over")

    # 5. Delivery decides the delivery gate.
    decide_first_in_queue(new_page, visit, lang, t, "delivery", promise, step=5, shortcut=False)

    # 6. The maker records what was delivered: kept.
    maker.goto(f"/promises/{promise.pk}/")
    expect(maker.locator(".page-head .pill")).to_have_text(t["in_delivery"])
    maker.get_by_label(t["delivered_value"], exact=True).press_sequentially(t["actual"])
    maker.get_by_role("button", name=t["verify"]).click()
    expect(maker.locator(".messages")).to_contain_text(t["verified_msg"])
    expect(maker.locator(".page-head .pill")).to_have_text(t["fulfilled"])
    visit(maker, "step6-promise-verified")
    status_link = maker.locator("dt", has_text=t["status_link"]).locator("xpath=following-sibling::dd[1]/a")
    status_path = urlsplit(status_link.get_attribute("href")).path

    # 7. The customer opens the status page on a phone and rates the promise.
    customer = new_page(lang=lang, phone=True)
    customer.goto(status_path)
    expect(customer.locator("html")).to_have_attribute("lang", lang)
    visit(customer, "step7-status-page", phone_only=True)
    customer.locator("label.choice", has_text=t["yes"]).tap()
    customer.locator("label.choice", has_text="5").tap()
    customer.get_by_role("textbox").fill(t["comment"])
    customer.get_by_role("button", name=t["send"]).tap()
    expect(customer.get_by_text(t["thanks"])).to_be_visible()
    visit(customer, "step7-status-rated", phone_only=True)
    rating = Feedback.objects.get(promise=promise, source=FeedbackSource.CUSTOMER)
    assert (rating.kept_as_seen, rating.csat_score, rating.text) == (True, 5, t["comment"])

    # 8. A manager sees it counted on the dashboard and moves an improvement across the KVP board.
    manager = open_signed_in(new_page, lang, "manager")
    manager.get_by_role("link", name=t["dashboard"], exact=True).click()
    expect(manager.get_by_role("heading", name=t["keep_heading"])).to_be_visible()
    totals = manager.locator("ul.counts").first
    verified_total = org.history_kept + org.history_broken + 1
    expect(totals.locator("li", has_text=t["verified"])).to_contain_text(str(verified_total))
    keep_rate = round(100 * (org.history_kept + 1) / verified_total)
    expect(totals.locator("li", has_text=t["kept_total"])).to_contain_text(f"{keep_rate} %")
    keep_chart = manager.locator("section", has=manager.get_by_role("heading", name=t["keep_heading"]))
    keep_chart.get_by_text(t["table"]).click()
    # this month (the table's last row): the category kept all it verified — the journey's promise
    this_month = keep_chart.locator("tbody tr").last
    expect(this_month.locator(f'td[data-label="{org.category.name_de if lang == "de" else org.category.name}"]')).to_have_text("100 %")
    visit(manager, "step8-dashboard")

    manager.get_by_role("link", name=t["board"], exact=True).click()
    title = org.improvement.title
    proposed = manager.locator('section[aria-labelledby="column-proposed"]')
    accepted = manager.locator('section[aria-labelledby="column-accepted"]')
    expect(proposed.get_by_role("heading", name=title)).to_be_visible()
    visit(manager, "step8-kvp-board")
    card = proposed.get_by_role("article", name=title)
    card.get_by_role("button", name=re.compile(f"^{t['accept']}")).click()
    expect(accepted.get_by_role("heading", name=title)).to_be_visible()
    expect(proposed.get_by_role("heading", name=title)).to_have_count(0)
    visit(manager, "step8-kvp-board-accepted")
    org.improvement.refresh_from_db()
    assert org.improvement.state == "accepted"


def decide_first_in_queue(new_page, visit, lang, t, username, promise, *, step: int, shortcut: bool) -> None:
    """The gatekeeper opens the gate queue from the header, finds the promise's gate on top, and
    decides it: "Tick all as met" (which also chooses go) and save, or the no-script shortcut."""
    page = open_signed_in(new_page, lang, username)
    page.get_by_role("link", name=t["queue"], exact=True).click()
    expect(page.get_by_role("heading", name=t["queue"], exact=True)).to_be_visible()
    row = first_open_gate_row(page)
    expect(row).to_contain_text(promise.title)
    visit(page, f"step{step}-{username}-gate-queue")
    review = GateReview.objects.get(promise=promise, state="open")
    row.get_by_role("link", name=re.compile(f"^{t['decide']}")).click()
    expect(page.get_by_role("heading", name=t["decide_heading"] + (review.name_de or review.name if page_lang(page) == "de" else review.name))).to_be_visible()
    if shortcut:
        visit(page, f"step{step}-{username}-decide")
        page.get_by_role("button", name=t["all_met"]).click()
    else:
        page.get_by_role("button", name=t["tick"]).click()
        expect(page.get_by_role("radio", name="Go", exact=True)).to_be_checked()
        for radio in page.locator('.criterion input[value="met"]').all():
            expect(radio).to_be_checked()
        visit(page, f"step{step}-{username}-decide-ticked")
        page.get_by_role("button", name=t["save"]).click()
    expect(page.locator(".messages")).to_contain_text(t["decided"])
    expect(page.locator(".messages")).to_contain_text(review.name_de or review.name if page_lang(page) == "de" else review.name)
    visit(page, f"step{step}-{username}-decided")
    review.refresh_from_db()
    assert (review.state, review.decision, review.decided_by.username) == ("passed", "go", username)
