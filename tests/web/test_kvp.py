"""The KVP board and an item's page: scoped reads, only the moves the user may make, moves by POST
through the services, a forced forbidden move answered 403, errors next to their fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import ImprovementItem, ImprovementState, ImprovementTransition
from feedback.services import improvements as kvp
from tests.web.kvp_support import item_owner, plan_input, propose  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
BOARD = reverse("web:kvp-board")


def move_url(item, move: str) -> str:
    return reverse("web:kvp-move", args=[item.pk, move])


def item_url(item) -> str:
    return reverse("web:kvp-item", args=[item.pk])


def planned(item, manager, owner, metric):
    kvp.improvement_accept(item_id=item.pk, user=manager)
    return kvp.improvement_plan(item_id=item.pk, user=manager, owner=owner, priority="high",
                                start_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 6, 30), budget=1000,
                                targets=plan_input(metric, deadline=dt.date(2026, 6, 30)))


def test_the_board_shows_a_non_manager_only_the_items_they_may_see(client, seller, legal_user, manager, propose):  # noqa: F811
    mine = propose("Seller idea", user=seller)
    hidden = propose("Legal idea", user=legal_user)
    client.force_login(seller)
    body = client.get(BOARD).content.decode()
    assert mine.title in body and hidden.title not in body
    client.force_login(manager)
    body = client.get(BOARD).content.decode()
    assert mine.title in body and hidden.title in body


def test_an_item_outside_the_scope_is_a_404_on_its_page_and_for_its_moves(client, seller, legal_user, propose):  # noqa: F811
    hidden = propose("Legal idea", user=legal_user)
    client.force_login(seller)
    assert client.get(item_url(hidden)).status_code == 404
    assert client.post(move_url(hidden, "accept")).status_code == 404


def test_a_manager_moves_an_item_across_the_board_with_the_button_on_its_card(client, manager, propose):  # noqa: F811
    item = propose()
    client.force_login(manager)
    board = client.get(BOARD).content.decode()
    assert f'action="{move_url(item, "accept")}"' in board
    response = client.post(move_url(item, "accept"), {"back": "board"})
    assert response.status_code == 302 and response["Location"] == f"{BOARD}#item-{item.pk}"
    item.refresh_from_db()
    assert item.state == ImprovementState.ACCEPTED
    assert ImprovementTransition.objects.filter(item=item, action="accept", actor=manager).exists()
    assert "Accept done." in client.get(response["Location"]).content.decode()


def test_a_forced_forbidden_move_answers_403_and_changes_nothing(client, seller, propose):  # noqa: F811
    item = propose(user=seller)
    client.force_login(seller)
    # the proposer is offered no decision
    page = client.get(item_url(item)).content.decode()
    assert move_url(item, "accept") not in page
    response = client.post(move_url(item, "accept"))
    assert response.status_code == 403
    assert "Only a manager may accept an improvement item." in response.content.decode()
    item.refresh_from_db()
    assert item.state == ImprovementState.PROPOSED


def test_the_item_page_offers_only_the_moves_its_state_and_the_role_allow(
        client, manager, item_owner, response_time, propose):  # noqa: F811
    item = planned(propose(), manager, item_owner, response_time)
    client.force_login(item_owner)
    page = client.get(item_url(item)).content.decode()
    assert move_url(item, "start") in page
    for other in ("accept", "plan", "abandon", "standardize"):
        assert move_url(item, other) not in page
    client.force_login(manager)
    page = client.get(item_url(item)).content.decode()
    assert move_url(item, "start") in page and move_url(item, "abandon") in page
    assert move_url(item, "accept") not in page
    # the plan shows on the page: owner, priority, the SMART target
    assert "kvp-owner" in page and "High" in page and "response time 6 → 4 h" in page


def test_planning_through_the_form_with_date_pickers_moves_the_item(client, manager, item_owner, response_time,  # noqa: F811
                                                                    propose):  # noqa: F811
    item = propose()
    kvp.improvement_accept(item_id=item.pk, user=manager)
    client.force_login(manager)
    page = client.get(item_url(item)).content.decode()
    assert 'type="date" name="plan-start_date"' in page and 'type="date" name="plan-deadline"' in page
    data = {"plan-owner": item_owner.pk, "plan-priority": "high", "plan-start_date": "2026-01-01",
            "plan-due_date": "2026-06-30", "plan-budget": "1500", "plan-metric": response_time.pk,
            "plan-measure": "median_actual_value", "plan-baseline": "6", "plan-target_value": "4",
            "plan-deadline": "2026-06-30", "plan-window_days": "90"}
    response = client.post(move_url(item, "plan"), data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ImprovementState.PLANNED and item.owner == item_owner
    assert item.targets.get().target_value == 4


def test_a_target_the_service_refuses_is_shown_next_to_its_field(client, manager, item_owner, response_time,  # noqa: F811
                                                                 propose):  # noqa: F811
    item = propose()
    kvp.improvement_accept(item_id=item.pk, user=manager)
    client.force_login(manager)
    data = {"plan-owner": item_owner.pk, "plan-priority": "high", "plan-start_date": "2026-01-01",
            "plan-due_date": "2026-06-30", "plan-budget": "1500", "plan-metric": response_time.pk,
            "plan-measure": "manual", "plan-baseline": "4", "plan-target_value": "4",
            "plan-deadline": "2026-06-30", "plan-window_days": "90"}
    response = client.post(move_url(item, "plan"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_plan-target_value_error"' in body and "Must differ from the baseline" in body
    assert "targets[0]" not in body  # the domain's words, not the API's field names
    assert "<details class=\"move\" open>" in body
    item.refresh_from_db()
    assert item.state == ImprovementState.ACCEPTED


def test_rejecting_needs_the_reasons(client, manager, propose):  # noqa: F811
    item = propose()
    client.force_login(manager)
    response = client.post(move_url(item, "reject"), {"reject-comment": "  "})
    assert response.status_code == 400 and 'id="id_reject-comment_error"' in response.content.decode()
    response = client.post(move_url(item, "reject"), {"reject-comment": "Out of scope"})
    item.refresh_from_db()
    assert response.status_code == 302 and item.state == ImprovementState.REJECTED


def test_a_move_the_state_no_longer_allows_says_so_plainly(client, manager, propose):  # noqa: F811
    item = propose()
    kvp.improvement_accept(item_id=item.pk, user=manager)
    client.force_login(manager)
    response = client.post(move_url(item, "accept"), follow=True)
    assert "An improvement item that is Accepted cannot accept." in response.content.decode()


def test_the_board_and_the_item_page_run_a_fixed_number_of_queries(client, manager, item_owner, response_time,  # noqa: F811
                                                                   propose, django_assert_max_num_queries):  # noqa: F811
    client.force_login(manager)
    first = planned(propose("First"), manager, item_owner, response_time)
    client.get(BOARD)
    with CaptureQueriesContext(connection) as small_board:
        client.get(BOARD)
    with CaptureQueriesContext(connection) as small_item:
        client.get(item_url(first))
    for i in range(6):
        planned(propose(f"Item {i}"), manager, item_owner, response_time)
    with django_assert_max_num_queries(len(small_board)):
        body = client.get(BOARD).content.decode()
    assert "Item 5" in body
    with django_assert_max_num_queries(len(small_item)):
        client.get(item_url(first))
    assert ImprovementItem.objects.count() == 7


def test_the_board_speaks_german(client, manager, propose):  # noqa: F811
    propose()
    client.force_login(manager)
    client.cookies["django_language"] = "de"
    body = client.get(BOARD).content.decode()
    assert "Vorgeschlagen" in body and "Annehmen" in body


def test_owner_and_manager_take_an_item_through_check_to_standardized_by_the_forms(
        client, manager, item_owner, response_time, category, propose):  # noqa: F811
    from feedback.models import Guidance
    item = planned(propose(category_ids=[category.pk]),
                   manager, item_owner, response_time)
    # the owner starts it from the board's card and reports the check with a value measured by hand
    client.force_login(item_owner)
    assert client.post(move_url(item, "start"), {"back": "board"}).status_code == 302
    target = item.targets.get()
    response = client.post(move_url(item, "check"), {"check-note": "Pilot done", f"check-value_{target.pk}": "3.5"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.manual_value == 3.5 and target.reached is True
    # the owner may not standardize; the manager publishes the lesson as guidance on the category
    assert client.post(move_url(item, "standardize"), {"standardize-guidance_text": "x"}).status_code == 403
    client.force_login(manager)
    page = client.get(item_url(item)).content.decode()
    assert "by hand 3.5 h" in page and "reached" in page
    response = client.post(move_url(item, "standardize"), {
        "standardize-guidance_text": "Confirm a technician before promising 4 hours.",
        "standardize-guidance_categories": [category.pk]})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ImprovementState.STANDARDIZED
    assert Guidance.objects.get(improvement=item).category == category
    assert "Keep rate before and after" in client.get(item_url(item)).content.decode()


def test_a_team_member_proposes_an_improvement_from_the_board(client, service_user, category):
    client.force_login(service_user)
    assert 'action="/kvp/propose/"' in client.get(BOARD).content.decode()
    response = client.post(reverse("web:kvp-propose"), {"propose-title": "   ", "propose-categories": [category.pk]})
    assert response.status_code == 400 and 'id="id_propose-title_error"' in response.content.decode()
    response = client.post(reverse("web:kvp-propose"), {"propose-title": "Call back within the hour",
                                                         "propose-categories": [category.pk]})
    item = ImprovementItem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BOARD}#item-{item.pk}"
    assert (item.state, item.proposed_by, list(item.categories.all())) == (
        ImprovementState.PROPOSED, service_user, [category])


def test_a_user_in_no_team_is_offered_no_proposal_and_is_refused_one(client):
    from tests.factories import UserFactory
    client.force_login(UserFactory(username="loner"))
    assert 'action="/kvp/propose/"' not in client.get(BOARD).content.decode()
    assert client.post(reverse("web:kvp-propose"), {"propose-title": "Sneaky"}).status_code == 403
    assert not ImprovementItem.objects.exists()
