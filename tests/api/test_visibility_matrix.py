"""Who sees what: every list and detail endpoint and every admin changelist × every role.

The world (built through the services):
- seller A (sales) owns `draft_a` and `review_a` (submitted: the service team's Feasibility gate
  `gate_a` is open; the legal gate `gate_legal` and the service team's closure gate `gate_closure`
  wait their turn), both for customer `cust_a`;
- seller B (sales, the same department) owns `draft_b` for `cust_b`;
- the marketer owns `draft_m` (marketing) for `cust_m`; `cust_new` has no promise yet;
- feedback `fb_promise` on `review_a` (recorded by the manager), `fb_legal` on the category only
  (recorded by the legal gatekeeper);
- improvement `imp_a` proposed by seller A, `imp_fb` proposed by the manager from `fb_promise`.
gk_own is the service gatekeeper (its team owns `gate_a`), gk_other the legal gatekeeper: legal
has a gate on `review_a` too, so it sees that promise, but of its gates only its own. The operator
supports the outbox and sees no business record.

An id outside the reader's scope answers exactly what an unknown id answers (status and body);
lists and their counts leave it out. Aggregates count every promise whoever asks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core import roles
from feedback.selectors.dashboard import kvp_dashboard
from feedback.services import improvements as kvp
from feedback.services.intake import feedback_record
from promises import services as ps
from promises.selectors import promise_list
from tests.factories import CustomerFactory, UserFactory

from .conftest import token_client

pytestmark = pytest.mark.django_db

ROLES = ["anon", "seller_a", "seller_b", "marketer", "gk_own", "gk_other", "manager", "operator"]
UNKNOWN_ID = 987_654_321

# detail path              anon seller_a seller_b marketer gk_own gk_other manager operator
DETAIL = [
    ("/api/promises/{draft_a}/", 401, 200, 404, 404, 404, 404, 200, 404),
    ("/api/promises/{review_a}/", 401, 200, 200, 404, 200, 200, 200, 404),
    ("/api/promises/{draft_m}/", 401, 404, 404, 200, 404, 404, 200, 404),
    ("/api/promises/{review_a}/trail/", 401, 200, 200, 404, 200, 200, 200, 404),
    ("/api/gates/{gate_a}/", 401, 200, 200, 404, 200, 404, 200, 404),
    ("/api/gates/{gate_legal}/", 401, 200, 200, 404, 404, 200, 200, 404),
    ("/api/customers/{cust_a}/", 401, 200, 200, 404, 200, 200, 200, 404),
    ("/api/customers/{cust_new}/", 401, 200, 200, 200, 404, 404, 200, 404),
    ("/api/feedback/{fb_promise}/", 401, 200, 200, 404, 200, 200, 200, 404),
    ("/api/feedback/{fb_legal}/", 401, 404, 404, 404, 404, 200, 200, 404),
    ("/api/improvements/{imp_a}/", 401, 200, 404, 404, 404, 404, 200, 404),
    ("/api/improvements/{imp_fb}/", 401, 200, 200, 404, 200, 200, 200, 404),
    ("/api/categories/{category}/", 401, 200, 200, 200, 200, 200, 200, 200),
]

# list path            role -> the records it lists (None: 401)
LISTS = {
    "/api/promises/": {
        "anon": None, "seller_a": {"draft_a", "review_a"}, "seller_b": {"review_a", "draft_b"},
        "marketer": {"draft_m"}, "gk_own": {"review_a"}, "gk_other": {"review_a"},
        "manager": {"draft_a", "review_a", "draft_b", "draft_m"}, "operator": set()},
    "/api/gates/": {  # the work queue: gates of the reader's teams
        "anon": None, "seller_a": set(), "seller_b": set(), "marketer": set(),
        "gk_own": {"gate_a", "gate_closure"}, "gk_other": {"gate_legal"}, "manager": set(), "operator": set()},
    "/api/customers/": {
        "anon": None, "seller_a": {"cust_a", "cust_new"}, "seller_b": {"cust_a", "cust_b", "cust_new"},
        "marketer": {"cust_m", "cust_new"}, "gk_own": {"cust_a"}, "gk_other": {"cust_a"},
        "manager": {"cust_a", "cust_b", "cust_m", "cust_new"}, "operator": set()},
    "/api/feedback/": {
        "anon": None, "seller_a": {"fb_promise"}, "seller_b": {"fb_promise"}, "marketer": set(),
        "gk_own": {"fb_promise"}, "gk_other": {"fb_legal", "fb_promise"}, "manager": {"fb_promise", "fb_legal"},
        "operator": set()},
    "/api/improvements/": {
        "anon": None, "seller_a": {"imp_a", "imp_fb"}, "seller_b": {"imp_fb"}, "marketer": set(),
        "gk_own": {"imp_fb"}, "gk_other": {"imp_fb"}, "manager": {"imp_a", "imp_fb"}, "operator": set()},
    "/api/promises/{review_a}/trail/": {  # trail rows: the promise's own and its visible gates'
        "anon": None, "seller_a": "all", "seller_b": "all", "marketer": None, "gk_own": "all",
        "gk_other": "all", "manager": "all", "operator": None},
}

# which names of the world a list's ids are
PREFIX = {"/api/promises/": ("draft_", "review_"), "/api/gates/": "gate_", "/api/customers/": "cust_",
          "/api/feedback/": "fb_", "/api/improvements/": "imp_"}

CONFIG = ["promises_promisecategory", "promises_metric", "qualitygates_gateplan", "qualitygates_workingcalendar",
          "qualitygates_calendarclosure", "feedback_guidance", "feedback_improvementitem", "feedback_feedback"]
SUPPORT = ["notifications_delivery", "notifications_outboxevent"]
# what managers answer for: status links revoked and re-issued, a contact's personal data exported or erased
MANAGED = ["promises_servicepromise", "promises_customer"]
BUSINESS = ["promises_transitionlog", "promises_customernotice",
            "qualitygates_gatereview", "qualitygates_gatecondition", "notifications_inboxitem",
            "notifications_webhooksubscription", "auth_user", "auth_group"]
# admin changelist → status per role, every role's group holding EVERY permission (the worst case
# of a careless grant): the walls, not the grants, decide. anon is sent to the login page.
ADMIN = {name: (302, 403, 403, 403, 403, 403, 200, 403) for name in CONFIG}
ADMIN |= {name: (302, 403, 403, 403, 403, 403, 403, 200) for name in SUPPORT}
ADMIN |= {name: (302, 403, 403, 403, 403, 403, 200, 403) for name in MANAGED}
ADMIN |= {name: (302, 403, 403, 403, 403, 403, 403, 403) for name in BUSINESS}


@pytest.fixture
def world(make_promise, seller, service_user, legal_user, manager, category, customer):
    seller_b = UserFactory(username="seller-b", teams=[roles.SALES])
    marketer = UserFactory(username="marketer", teams=[roles.MARKETING])
    operator = UserFactory(username="operator", teams=[roles.OPERATORS])
    cust_a, cust_b, cust_m = (CustomerFactory() for _ in range(3))
    cust_new = customer  # make_promise's default customer, with no promise here
    draft_a = make_promise(customer=cust_a)
    review_a = ps.promise_submit(promise_id=make_promise(customer=cust_a).pk, user=seller)
    draft_b = make_promise(user=seller_b, customer=cust_b)
    draft_m = make_promise(user=marketer, customer=cust_m, origin_department="marketing", channel="campaign")
    fb_promise = feedback_record(user=manager, kind="complaint", channel="phone", category=category,
                                 promise=review_a, text="Nobody called back")
    fb_legal = feedback_record(user=legal_user, kind="praise", channel="email", category=category, text="Clear")
    imp_a = kvp.improvement_propose(user=seller, title="Shorter offers")
    imp_fb = kvp.improvement_propose(user=manager, title="Call back within the hour", feedback_ids=[fb_promise.pk])
    users = {"anon": None, "seller_a": seller, "seller_b": seller_b, "marketer": marketer, "gk_own": service_user,
             "gk_other": legal_user, "manager": manager, "operator": operator}
    ids = {"draft_a": draft_a.pk, "review_a": review_a.pk, "draft_b": draft_b.pk, "draft_m": draft_m.pk,
           "gate_a": review_a.gate_reviews.get(state="open").pk,
           "gate_legal": review_a.gate_reviews.get(owning_team__name=roles.LEGAL).pk,
           "gate_closure": review_a.gate_reviews.get(owning_team__name=roles.SERVICE, step="closure").pk,
           "cust_a": cust_a.pk, "cust_b": cust_b.pk,
           "cust_m": cust_m.pk, "cust_new": cust_new.pk, "fb_promise": fb_promise.pk, "fb_legal": fb_legal.pk,
           "imp_a": imp_a.pk, "imp_fb": imp_fb.pk, "category": category.pk}
    return users, ids


def _unknown(path: str) -> str:
    """The same path with its id replaced by one that does not exist."""
    head, _, rest = path.removeprefix("/api/").partition("/")
    return f"/api/{head}/{UNKNOWN_ID}/{rest.partition('/')[2]}"


@pytest.mark.parametrize("row", DETAIL, ids=[row[0] for row in DETAIL])
def test_detail_endpoints_by_role(world, row):
    users, ids = world
    path, *expected = row
    url = path.format(**ids)
    for role, status in zip(ROLES, expected, strict=True):
        client = token_client(users[role])
        response = client.get(url)
        assert response.status_code == status, (role, url, response.status_code)
        if status == 404:
            # out of scope is indistinguishable from an id that does not exist
            unknown = client.get(_unknown(url))
            assert unknown.status_code == 404
            assert response.json() == {**unknown.json(), "detail": unknown.json()["detail"].replace(
                str(UNKNOWN_ID), url.removeprefix("/api/").split("/")[1])}


@pytest.mark.parametrize("path", list(LISTS), ids=list(LISTS))
def test_list_endpoints_by_role_list_and_count_only_what_the_role_may_see(world, path):
    users, ids = world
    prefix = PREFIX.get(path, "")
    names = {v: k for k, v in ids.items() if prefix and k.startswith(prefix)}
    url = path.format(**ids)
    for role in ROLES:
        expected = LISTS[path][role]
        response = token_client(users[role]).get(url, {"page_size": 100})
        if expected is None:
            assert response.status_code in (401, 404), (role, url, response.status_code)
            continue
        assert response.status_code == 200, (role, url, response.status_code)
        body = response.json()
        if expected == "all":
            assert body["count"] == len(body["results"]) > 0, role
            continue
        listed = {names.get(row["id"], row["id"]) for row in body["results"]}
        assert listed == expected, (role, url)
        assert body["count"] == len(expected), (role, url)


def test_the_trail_shows_a_gatekeeper_only_its_own_teams_gate_rows(world, make_promise, seller, service_user,
                                                                  legal_user):
    users, ids = world
    # given a promise past the service gate, with the legal gate now open
    from tests.gate_flow import decide_go
    promise = ps.promise_submit(promise_id=make_promise().pk, user=seller)
    decide_go(promise, service_user)
    legal_gate = promise.gate_reviews.get(state="open")
    assert legal_gate.owning_team.name == roles.LEGAL

    # when legal reads the promise and its trail
    detail = token_client(legal_user).get(f"/api/promises/{promise.pk}/").json()
    trail = token_client(legal_user).get(f"/api/promises/{promise.pk}/trail/").json()["results"]

    # then legal sees only its own gate, and no row of the service team's decision
    assert [g["id"] for g in detail["gates"]] == [legal_gate.pk]
    assert {row.get("gate_review") for row in trail} <= {None, legal_gate.pk}
    seller_trail = token_client(seller).get(f"/api/promises/{promise.pk}/trail/").json()
    assert seller_trail["count"] > len(trail)


def test_seller_b_reading_seller_as_draft_is_the_unknown_ids_404(world):
    users, ids = world
    client = token_client(users["seller_b"])
    response = client.get(f"/api/promises/{ids['draft_a']}/")
    unknown = client.get(f"/api/promises/{UNKNOWN_ID}/")
    assert response.status_code == unknown.status_code == 404
    assert response.json()["error"] == unknown.json()["error"] == "not_found"
    assert response.json()["detail"] == f"Promise {ids['draft_a']} does not exist."
    # nor can B change, delete or submit it
    assert client.patch(f"/api/promises/{ids['draft_a']}/", {"title": "Mine now"}, format="json").status_code == 404
    assert client.delete(f"/api/promises/{ids['draft_a']}/").status_code == 404
    assert client.post(f"/api/promises/{ids['draft_a']}/submit/", {}, format="json").status_code == 404


def test_a_legal_gatekeeper_reading_a_service_gate_is_the_unknown_ids_404(world):
    users, ids = world
    client = token_client(users["gk_other"])
    response = client.get(f"/api/gates/{ids['gate_a']}/")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": f"Gate review {ids['gate_a']} does not exist.",
                               "fields": {}}


def test_aggregates_count_every_promise_whoever_asks(world, outcome_for_aggregates):
    users, ids = world
    answers = {role: token_client(users[role]).get(f"/api/categories/{ids['category']}/record/").json()
               for role in ROLES if role not in ("anon",)}
    assert len({repr(a) for a in answers.values()}) == 1, answers
    keep_rates = {role: [(r["category"].pk, r["kept"], r["broken"])
                         for r in kvp_dashboard(user=users[role])["keep_rates"]]
                  for role in ROLES if users[role] is not None}
    assert len({repr(v) for v in keep_rates.values()}) == 1
    assert any(kept + broken for _, kept, broken in keep_rates["manager"])


@pytest.fixture
def outcome_for_aggregates(world, make_promise, seller, service_user, legal_user, delivery_user):
    """One verified broken promise of seller A's: only A, B, the gatekeepers and the manager see it."""
    from tests.gate_flow import decide_go
    promise = ps.promise_submit(promise_id=make_promise().pk, user=seller)
    decide_go(promise, service_user)
    decide_go(promise, legal_user)
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    decide_go(promise, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("8"), reason="Van broke down")
    return promise


def test_scoped_lists_run_a_bounded_number_of_queries(world, make_promise, seller, django_assert_max_num_queries):
    users, ids = world
    for i in range(10):
        ps.promise_submit(promise_id=make_promise(title=f"Promise {i}").pk, user=seller)
    with django_assert_max_num_queries(2):  # the reader's groups, then the list
        titles = [(p.title, p.category.name, p.owner.username) for p in promise_list(user=users["seller_b"])]
    assert len(titles) == 12  # the ten, review_a (the department's) and B's own draft


@pytest.mark.parametrize("changelist", list(ADMIN), ids=list(ADMIN))
def test_admin_changelists_by_role(world, client, changelist):
    users, ids = world
    every_permission = list(Permission.objects.all())
    for role, status in zip(ROLES, ADMIN[changelist], strict=True):
        client.logout()
        user = users[role]
        if user is not None:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            for group in user.groups.all():
                group.permissions.set(every_permission)
            client.force_login(user)
        response = client.get(reverse(f"admin:{changelist}_changelist"))
        assert response.status_code == status, (role, changelist, response.status_code)


def test_a_manager_cannot_grant_themselves_superuser(world, client):
    users, ids = world
    manager = users["manager"]
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    # given the managers group was granted every permission on users and groups
    manager.groups.get(name=roles.MANAGERS).permissions.add(
        *Permission.objects.filter(content_type__app_label="auth"))
    client.force_login(manager)

    # when the manager opens their own user and posts is_superuser
    url = reverse("admin:auth_user_change", args=[manager.pk])
    page = client.get(url)
    posted = client.post(url, {"username": manager.username, "is_superuser": "on", "is_staff": "on",
                               "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})

    # then both are refused and nothing changed
    assert page.status_code == 403 and posted.status_code == 403
    manager.refresh_from_db()
    assert not manager.is_superuser
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
