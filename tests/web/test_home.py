"""My work (`/`): by role, with counts that link to the lists behind them, a bounded number of
queries whatever the data, in English and German."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from core import roles
from feedback.selectors.improvements import improvements_awaiting_decision
from feedback.selectors.signals import early_warnings_open
from feedback.services.improvements import improvement_propose
from promises import services as ps
from promises.selectors import promise_broken_this_month, promise_work_for_maker
from qualitygates.selectors import gate_work_open
from tests.factories import UserFactory
from tests.gate_flow import decide, decide_go, in_delivery, open_review, submitted
from web.views.home import time_badge

pytestmark = pytest.mark.django_db


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_maker_sees_the_promises_that_need_them_with_the_rework_reason(client, make_promise, seller,
                                                                         service_user, clock):
    # given a draft, a promise sent back for rework, and a draft of another seller
    make_promise(title="Hotline around the clock")
    reworked = submitted(make_promise, seller, title="Spare parts next day")
    decide(reworked, service_user, "recycle", comment="The spare parts stock is not confirmed.")
    other = UserFactory(username="other-seller", teams=[roles.SALES])
    make_promise(user=other, title="Someone else's draft")
    # when the seller opens their home
    body = page(client, seller)
    # then the counts link to the lists behind them, and the rework reason is on top
    assert 'href="/promises/?state=draft&amp;mine=1"' in body
    assert 'href="/promises/?state=rework&amp;mine=1"' in body
    assert "Hotline around the clock" in body and "Spare parts next day" in body
    assert "The spare parts stock is not confirmed." in body and "Sent back at “Feasibility”" in body
    assert "Someone else&#x27;s draft" not in body and "Someone else's draft" not in body
    assert reverse("web:promise-detail", args=[reworked.pk]) in body


def test_the_maker_lists_cover_approved_handover_verify_and_overdue(make_promise, seller, service_user,
                                                                    legal_user, delivery_user, clock):
    delivering = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    approved = submitted(make_promise, seller, title="Approved one", due_date=dt.date(2027, 1, 10))
    decide_go(approved, service_user)
    decide_go(approved, legal_user)
    committed = submitted(make_promise, seller, title="Committed one")
    decide_go(committed, service_user)
    decide_go(committed, legal_user)
    ps.promise_commit(promise_id=committed.pk, user=seller)
    clock.advance(days=30)  # the approved one's due date (10 January) has passed
    lists = {work.key: work for work in promise_work_for_maker(user=seller)}
    assert [p.pk for p in lists["verify"].items] == [delivering.pk]
    assert [p.pk for p in lists["approved"].items] == [approved.pk]
    assert [p.pk for p in lists["handover"].items] == [committed.pk]
    assert [p.pk for p in lists["overdue"].items] == [approved.pk]
    # once handed over (a delivery gate is open) it no longer waits for the maker
    ps.promise_handover(promise_id=committed.pk, user=seller)
    assert {work.key: work.count for work in promise_work_for_maker(user=seller)}["handover"] == 0


def test_a_gatekeeper_sees_their_teams_open_gates_overdue_first_with_a_time_left_badge(
        client, make_promise, seller, service_user, legal_user, clock):
    # given two open service gates, one of them overdue, and a legal gate
    late = submitted(make_promise, seller, title="Late one")
    clock.advance(days=10)
    fresh = submitted(make_promise, seller, title="Fresh one")
    legal_only = submitted(make_promise, seller, title="Legal's turn")
    decide_go(legal_only, service_user)  # now the legal gate is open
    # when the service gatekeeper opens their home
    body = page(client, service_user)
    # then both service gates are listed, the overdue one first, each linked to its decision page
    assert body.index("Late one") < body.index("Fresh one")
    assert "Legal&#x27;s turn" not in body
    assert reverse("web:gate-decide", args=[open_review(late).pk]) in body
    assert reverse("web:gate-decide", args=[open_review(fresh).pk]) in body
    assert 'class="pill danger">Overdue by' in body and 'class="pill ok">Due in' in body
    work = gate_work_open(user=service_user)
    assert (work.count, work.overdue) == (2, 1)


def test_the_time_left_badge_says_in_words_what_its_colour_says():
    assert time_badge(dt.timedelta(hours=-3)).tone == "danger"
    assert time_badge(dt.timedelta(hours=-3)).text == "Overdue by 3 h"
    assert (time_badge(dt.timedelta(hours=2)).tone, time_badge(dt.timedelta(hours=2)).text) == ("warn", "Due in 2 h")
    assert (time_badge(dt.timedelta(days=1, hours=3)).tone,
            time_badge(dt.timedelta(days=1, hours=3)).text) == ("ok", "Due in 1 d 3 h")
    assert time_badge(None).tone == "neutral" and time_badge(None).text


def test_a_manager_sees_overdue_gates_broken_promises_improvements_and_early_warnings(
        client, make_promise, seller, service_user, legal_user, delivery_user, manager, clock, settings):
    settings.KVP_EARLY_WARNING_WINDOW = 1  # one broken promise is a warning
    # given a promise broken this month, an overdue gate and a proposed improvement
    broken = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=broken.pk, user=seller, actual_value=Decimal("9"), reason="Technician was ill")
    waiting = submitted(make_promise, seller, title="Waiting at the gate")
    clock.advance(days=10)
    improvement_propose(user=seller, title="Keep a spare technician on call")
    # when the manager opens their home
    body = page(client, manager)
    # then each figure is there, with what it counts
    assert "Waiting at the gate" in body and reverse("web:promise-detail", args=[waiting.pk]) in body
    # the gate opens its promise, not a decide page the manager would be refused
    assert reverse("web:gate-decide", args=[open_review(waiting).pk]) not in body
    assert "Technician was ill" in body and reverse("web:promise-detail", args=[broken.pk]) in body
    assert "Keep a spare technician on call" in body
    assert "Early warning: On-site service broke 1 of its last 1 promises" in body
    assert 'href="/promises/?state=broken"' in body and reverse("web:kvp-board") in body
    # and no maker section: the manager owns no promise
    assert "My promises that need me" not in body


def test_an_operator_is_pointed_to_the_administration(client):
    operator = UserFactory(username="operator", teams=[roles.OPERATORS])
    body = page(client, operator)
    assert reverse("admin:index") in body and "My promises that need me" not in body


def test_a_user_in_no_team_is_told_so(client):
    body = page(client, UserFactory(username="newcomer"))
    assert "Ask a manager to add you to your team" in body


def test_a_user_with_several_roles_sees_each_section(client, make_promise, seller, clock):
    both = UserFactory(username="both", teams=[roles.SALES, roles.SERVICE, roles.MANAGERS])
    make_promise(user=both, title="My own draft")
    body = page(client, both)
    assert "My promises that need me" in body and "Open gates of my teams" in body
    assert "What needs a manager" in body


def _lots_of_work(make_promise, user, service_user, n):
    for i in range(n):
        make_promise(user=user, title=f"Draft {i}")
        promise = submitted(make_promise, user, user=user, title=f"Rework {i}")
        decide(promise, service_user, "recycle", comment=f"Reason {i}")
        submitted(make_promise, user, user=user, title=f"Open gate {i}", due_date=dt.date(2026, 1, 1))
        improvement_propose(user=user, title=f"Idea {i}")


@pytest.mark.parametrize("n", [1, 12])
def test_the_home_page_runs_a_bounded_number_of_queries_whatever_the_data(
        client, make_promise, seller, service_user, n, django_assert_max_num_queries, clock):
    # given a user who is maker, gatekeeper and manager at once, with little or much work
    everyone = UserFactory(username="everyone", teams=[roles.SALES, roles.SERVICE, roles.MANAGERS])
    _lots_of_work(make_promise, everyone, service_user, n)
    client.force_login(everyone)
    # then the page's query count does not grow with the data
    with django_assert_max_num_queries(30):
        response = client.get(reverse("web:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Draft 0" in body and "Reason 0" in body
    if n > 10:
        assert "Show all 12" in body
    # and so do the selectors behind it (the user's teams are read once and cached on the user)
    with django_assert_max_num_queries(1 + 6 + 1 + 1):
        lists = promise_work_for_maker(user=everyone)
    assert {work.key: work.count for work in lists}["draft"] == n
    with django_assert_max_num_queries(2):
        assert gate_work_open(user=everyone).count == n
    with django_assert_max_num_queries(2):
        assert improvements_awaiting_decision(user=everyone).count == n
    with django_assert_max_num_queries(2):
        assert early_warnings_open(user=everyone).count == 0
    with django_assert_max_num_queries(2):
        assert promise_broken_this_month(user=everyone).count == 0


def test_the_home_page_speaks_german(client, make_promise, seller, service_user, clock):
    reworked = submitted(make_promise, seller)
    decide(reworked, service_user, "recycle", comment="Lager prüfen")
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    body = client.get(reverse("web:home")).content.decode()
    assert "Meine Arbeit" in body and "Meine Leistungsversprechen, die mich brauchen" in body
    assert "Zur Nacharbeit zurückgeschickt" in body and "Lager prüfen" in body
