"""The gate admin: bounded change lists, nested plan editing, and the decide / resume / mark-met pages
that run the gate engine and show its domain errors instead of failing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from core import roles
from notifications.models import OutboxEvent
from promises import services as ps
from promises.models import PromiseState, TransitionLog
from qualitygates.models import (
    CalendarClosure,
    ConditionState,
    GateCondition,
    GateCriterion,
    GatePlan,
    GateReview,
    ReviewState,
    WorkingCalendar,
)
from tests.admin_support import (
    count_queries,
    drive_promises,
    form_data,
    make_staff,
    make_superuser,
    open_review,
)
from tests.factories import CategoryFactory, UserFactory, WorkingCalendarFactory, build_standard_plan

User = get_user_model()

CHANGELISTS = ["qualitygates_gateplan", "qualitygates_gatedefinition", "qualitygates_gatecriterion",
               "qualitygates_gatereview", "qualitygates_gatecheck", "qualitygates_gatecondition",
               "qualitygates_workingcalendar", "qualitygates_calendarclosure", "auth_group",
               "notifications_outboxevent"]
LIST_QUERY_BOUND = 12
PLAN_PERMISSIONS = ("view_gateplan", "change_gateplan", *(f"{action}_{model}" for model in ("gatedefinition", "gatecriterion")
                                                       for action in ("view", "add", "change", "delete")))


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def add_reference_rows(count: int) -> None:
    """Plans (with gates and criteria) and team calendars (with closures), `count` of each."""
    for _ in range(count):
        category = CategoryFactory()
        build_standard_plan(category)
        calendar = WorkingCalendarFactory()
        CalendarClosure.objects.create(calendar=calendar, date=dt.date(2027, 12, 24), name="Heiligabend")


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(name, admin_client, make_promise, seller, service_user,
                                                   django_assert_max_num_queries):
    url = reverse(f"admin:{name}_changelist")
    # Given a few rows of every kind
    drive_promises(make_promise, seller=seller, service_user=service_user, count=2)
    add_reference_rows(2)
    few = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    # When there are four times as many
    drive_promises(make_promise, seller=seller, service_user=service_user, count=6)
    add_reference_rows(6)
    # Then the list still costs the same number of queries
    many = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    assert many == few


@pytest.mark.parametrize("name", ["qualitygates_gateplan", "qualitygates_gatedefinition",
                                  "qualitygates_gatecriterion", "qualitygates_gatereview", "qualitygates_gatecheck",
                                  "qualitygates_gatecondition", "qualitygates_workingcalendar",
                                  "qualitygates_calendarclosure", "auth_group", "notifications_outboxevent"])
def test_change_pages_load(name, admin_client, make_promise, seller, service_user, django_assert_max_num_queries):
    drive_promises(make_promise, seller=seller, service_user=service_user, count=1)
    WorkingCalendarFactory(team=Group.objects.get(name=roles.SERVICE))
    CalendarClosure.objects.create(calendar=WorkingCalendar.objects.first(), date=dt.date(2027, 12, 24),
                                   name="Heiligabend")
    app_label, model_name = name.split("_", 1)
    from django.apps import apps

    obj = apps.get_model(app_label, model_name).objects.order_by("pk").first()
    with django_assert_max_num_queries(40):
        response = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_a_gate_plan_is_edited_with_its_gates_and_criteria_nested(admin_client, category):
    plan = GatePlan.objects.get(category=category)
    criterion_ids = list(GateCriterion.objects.filter(definition__plan=plan).values_list("pk", flat=True))
    url = reverse("admin:qualitygates_gateplan_change", args=[plan.pk])
    page = admin_client.get(url)
    body = page.content.decode()
    assert "Feasibility: capacity confirmed" in body and "Legal check" in body
    # When a manager rewrites one criterion on the plan page and saves what the browser would send
    data = form_data(body)
    [criterion_field] = [k for k, v in data.items() if v == ["Feasibility: capacity confirmed"]]
    data[criterion_field] = ["Technician coverage in the region confirmed"]
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # Then the criterion of the nested gate definition changed, and nothing else was added or lost
    texts = set(GateCriterion.objects.filter(definition__plan=plan).values_list("text", flat=True))
    assert "Technician coverage in the region confirmed" in texts
    assert "Feasibility: capacity confirmed" not in texts
    assert len(texts) == 8
    # No promise uses the plan yet, so it was edited in place: still one version, the same rows
    assert GatePlan.objects.filter(category=category).count() == 1
    assert GateCriterion.objects.filter(definition__plan=plan, text="Technician coverage in the region confirmed",
                                        pk__in=criterion_ids).exists()


def rewrite_criterion(client, url: str, old: str, new: str):
    """Post the plan page as the browser sends it, with one criterion's text rewritten."""
    data = form_data(client.get(url).content.decode())
    [field] = [k for k, v in data.items() if v == [old]]
    data[field] = [new]
    return client.post(url, data, follow=True)


def test_editing_a_plan_in_use_creates_a_new_version_and_running_promises_keep_theirs(
        client, manager, category, make_promise, seller):
    make_staff(manager, *PLAN_PERMISSIONS)
    client.force_login(manager)
    # Given a plan a promise was submitted with
    plan = GatePlan.objects.get(category=category)
    running = make_promise()
    ps.promise_submit(promise_id=running.pk, user=seller)
    snapshot = sorted(GateReview.objects.filter(promise=running).values_list("name", "checks__text"))
    criteria_before = sorted(GateCriterion.objects.filter(definition__plan=plan).values_list("pk", "text"))
    # When a manager rewrites one of its criteria on the plan page
    url = reverse("admin:qualitygates_gateplan_change", args=[plan.pk])
    assert "saving creates version 2" in client.get(url).content.decode()
    response = rewrite_criterion(client, url, "Feasibility: capacity confirmed",
                                 "Technician coverage in the region confirmed")
    # Then the change is version 2 of the plan, and the manager is told so
    assert response.status_code == 200
    assert any("saved as version 2" in m for m in messages_of(response))
    new_plan = GatePlan.objects.get(category=category, version=2)
    texts = set(GateCriterion.objects.filter(definition__plan=new_plan).values_list("text", flat=True))
    assert "Technician coverage in the region confirmed" in texts and len(texts) == 8
    assert new_plan.definitions.count() == 4
    # And version 1, the running promise's plan and its gate snapshot are untouched
    assert sorted(GateCriterion.objects.filter(definition__plan=plan).values_list("pk", "text")) == criteria_before
    running.refresh_from_db()
    assert running.gate_plan_id == plan.pk
    assert sorted(GateReview.objects.filter(promise=running).values_list("name", "checks__text")) == snapshot
    # A promise submitted now gets the new version
    later = make_promise()
    ps.promise_submit(promise_id=later.pk, user=seller)
    later.refresh_from_db()
    assert later.gate_plan_id == new_plan.pk
    assert GateReview.objects.filter(promise=later, checks__text="Technician coverage in the region confirmed").exists()
    # And the superseded version is history: read-only
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert client.post(url, form_data(page)).status_code == 403


def test_an_unused_plan_is_edited_in_place_gates_and_criteria_removed_and_added(admin_client, category):
    plan = GatePlan.objects.get(category=category)
    url = reverse("admin:qualitygates_gateplan_change", args=[plan.pk])
    data = form_data(admin_client.get(url).content.decode())
    # When the last gate is removed and a criterion is added to the first one
    prefix = next(k for k in data if k.endswith("TOTAL_FORMS") and "criteria" not in k).removesuffix("TOTAL_FORMS")
    last = int(data[f"{prefix}TOTAL_FORMS"][0]) - 1
    data[f"{prefix}{last}-DELETE"] = ["on"]
    assert data[f"{prefix}0-name"] == ["Feasibility"]
    criteria = f"{prefix}0-criteria-"
    added = int(data[f"{criteria}TOTAL_FORMS"][0])
    data[f"{criteria}TOTAL_FORMS"] = [str(added + 1)]
    data.update({f"{criteria}{added}-order": ["3"], f"{criteria}{added}-text": ["Spare parts in the depot"],
                 f"{criteria}{added}-requirement": ["should"], f"{criteria}{added}-weight": ["1"]})
    response = admin_client.post(url, data)
    # Then the same plan changed: no new version, the gate is gone, the criterion is there
    assert response.status_code == 302, response.content.decode()[:3000]
    assert GatePlan.objects.filter(category=category).count() == 1
    removed = data[f"{prefix}{last}-name"][0]
    names = set(plan.definitions.values_list("name", flat=True))
    assert names == {"Feasibility", "Legal check", "Delivery readiness", "Fulfilment verified"} - {removed}
    assert plan.definitions.get(name="Feasibility").criteria.filter(text="Spare parts in the depot").exists()


def test_saving_a_plan_in_use_unchanged_creates_no_version(admin_client, category, make_promise, seller):
    plan = GatePlan.objects.get(category=category)
    ps.promise_submit(promise_id=make_promise().pk, user=seller)
    url = reverse("admin:qualitygates_gateplan_change", args=[plan.pk])
    assert admin_client.post(url, form_data(admin_client.get(url).content.decode())).status_code == 302
    assert GatePlan.objects.filter(category=category).count() == 1


def test_only_managers_save_gate_plans(client, service_user, category):
    # Given a gatekeeper who was granted the plan permissions: gate plans are no gatekeeper's admin
    make_staff(service_user, *PLAN_PERMISSIONS)
    client.force_login(service_user)
    plan = GatePlan.objects.get(category=category)
    url = reverse("admin:qualitygates_gateplan_change", args=[plan.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Anything goes"}).status_code == 403
    assert not GatePlan.objects.filter(name="Anything goes").exists()


def test_a_gate_plan_added_in_the_admin_is_the_categorys_next_version(admin_client, category):
    url = reverse("admin:qualitygates_gateplan_add")
    data = form_data(admin_client.get(url).content.decode())
    prefix = next(k for k in data if k.endswith("TOTAL_FORMS") and "criteria" not in k).removesuffix("TOTAL_FORMS")
    service = Group.objects.get(name=roles.SERVICE)
    data.update({"category": [str(category.pk)], "name": ["Lean plan"], "change_note": ["One gate only"],
                 f"{prefix}TOTAL_FORMS": ["1"], f"{prefix}0-order": ["1"], f"{prefix}0-name": ["Capacity"],
                 f"{prefix}0-step": ["approval"], f"{prefix}0-owning_team": [str(service.pk)],
                 f"{prefix}0-decision_hours": ["8"], f"{prefix}0-description": [""],
                 f"{prefix}0-criteria-TOTAL_FORMS": ["1"], f"{prefix}0-criteria-INITIAL_FORMS": ["0"],
                 f"{prefix}0-criteria-0-order": ["1"], f"{prefix}0-criteria-0-text": ["Technician free"],
                 f"{prefix}0-criteria-0-requirement": ["must"], f"{prefix}0-criteria-0-weight": ["1"]})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = GatePlan.objects.get(category=category, version=2)
    assert [(d.name, [c.text for c in d.criteria.all()]) for d in plan.definitions.all()] == [
        ("Capacity", ["Technician free"])]


def test_gates_and_criteria_are_edited_only_on_their_plans_page(admin_client, category):
    criterion = GateCriterion.objects.filter(definition__plan__category=category).first()
    for name, obj in (("gatedefinition", criterion.definition), ("gatecriterion", criterion)):
        assert admin_client.get(reverse(f"admin:qualitygates_{name}_add")).status_code == 403
        assert admin_client.get(reverse(f"admin:qualitygates_{name}_delete", args=[obj.pk])).status_code == 403
        page = admin_client.get(reverse(f"admin:qualitygates_{name}_change", args=[obj.pk]))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    plan = criterion.definition.plan
    assert admin_client.get(reverse("admin:qualitygates_gateplan_delete", args=[plan.pk])).status_code == 403


def test_a_team_is_edited_with_its_working_calendar(admin_client, db):
    team = Group.objects.create(name=roles.DELIVERY)
    url = reverse("admin:auth_group_change", args=[team.pk])
    data = form_data(admin_client.get(url).content.decode())
    prefix = next(k for k in data if k.endswith("TOTAL_FORMS") and "closures" not in k).removesuffix("TOTAL_FORMS")
    data[f"{prefix}TOTAL_FORMS"] = ["1"]
    for key, value in {"time_zone": "Europe/Berlin", "working_days": "0,1,2,3,4", "day_starts": "07:00",
                       "day_ends": "16:00", "holiday_country": "DE", "holiday_subdivision": "BY"}.items():
        data[f"{prefix}0-{key}"] = [value]
    # and one company closure inside the calendar (nested one level further)
    data.update({f"{prefix}0-closures-TOTAL_FORMS": ["1"], f"{prefix}0-closures-INITIAL_FORMS": ["0"],
                 f"{prefix}0-closures-0-date": ["2027-12-31"], f"{prefix}0-closures-0-name": ["Silvester"]})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar = WorkingCalendar.objects.get(team=team)
    assert (calendar.day_starts, calendar.holiday_subdivision) == (dt.time(7, 0), "BY")
    assert list(calendar.closures.values_list("date", "name")) == [(dt.date(2027, 12, 31), "Silvester")]


# --- deciding gates ---------------------------------------------------------------------------------

@pytest.fixture
def submitted(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    return promise


def decide_data(review, decision: str, *, result: str = "met", comment: str = "", conditions=()) -> dict:
    checks = list(review.checks.order_by("order", "id"))
    data = {"decision": decision, "comment": comment,
            "checks-TOTAL_FORMS": str(len(checks)), "checks-INITIAL_FORMS": str(len(checks)),
            "conditions-TOTAL_FORMS": "2", "conditions-INITIAL_FORMS": "0"}
    for i, check in enumerate(checks):
        data[f"checks-{i}-check"] = str(check.pk)
        data[f"checks-{i}-result"] = result
        data[f"checks-{i}-note"] = ""
    for i, condition in enumerate(conditions):
        data.update({f"conditions-{i}-{k}": v for k, v in condition.items()})
    return data


def test_the_decide_page_lists_the_criteria(client, submitted, service_user, django_assert_max_num_queries):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Feasibility: capacity confirmed" in body and "Feasibility: documented" in body
    # The list and the gate's change page offer the Decide button
    listing = client.get(reverse("admin:qualitygates_gatereview_changelist")).content.decode()
    assert reverse("admin:qualitygates_gatereview_decide", args=[review.pk]) in listing
    change = client.get(reverse("admin:qualitygates_gatereview_change", args=[review.pk])).content.decode()
    assert reverse("admin:qualitygates_gatereview_decide", args=[review.pk]) in change


def test_go_on_the_decide_page_passes_the_gate_through_the_engine(client, submitted, service_user):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                           decide_data(review, "go", comment="Capacity confirmed"))
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.decided_by, review.comment) == (ReviewState.PASSED, service_user,
                                                                 "Capacity confirmed")
    assert set(review.checks.values_list("result", flat=True)) == {"met"}
    # The engine opened the next gate and wrote the trail and the outbox event
    assert open_review(submitted).name == "Legal check"
    assert TransitionLog.objects.filter(gate_review=review, action="go", actor=service_user).exists()
    assert OutboxEvent.objects.filter(payload__gate_review__id=review.pk, kind="gate_decided").exists()


def test_four_eyes_violation_is_shown_not_raised(client, make_promise, category):
    # Given a promise owned by someone who is also in the gate's team
    both = UserFactory(username="sales-and-service", teams=[roles.SALES, roles.SERVICE])
    make_superuser(both)
    promise = make_promise(user=both)
    ps.promise_submit(promise_id=promise.pk, user=both)
    review = open_review(promise)
    trail_before = TransitionLog.objects.count()
    client.force_login(both)
    # When they try to decide their own promise's gate
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                           decide_data(review, "go"))
    # Then the page shows the four-eyes rule, and nothing was decided or written
    assert response.status_code == 200
    assert any("Four-eyes rule" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN and review.decided_by is None
    assert set(review.checks.values_list("result", flat=True)) == {""}
    assert TransitionLog.objects.count() == trail_before


def test_go_with_an_unmet_must_criterion_is_refused_with_the_rule(client, submitted, service_user):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                           decide_data(review, "go", result="not_met"))
    assert response.status_code == 200
    assert any("every must-meet criterion met" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN
    assert set(review.checks.values_list("result", flat=True)) == {""}


def test_a_member_of_another_team_cannot_decide(client, submitted, legal_user):
    make_superuser(legal_user)
    client.force_login(legal_user)
    review = open_review(submitted)
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                           decide_data(review, "go"))
    assert response.status_code == 200
    assert any("Only members of the owning team" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN


def test_recycle_without_a_comment_is_refused(client, submitted, service_user):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                           decide_data(review, "recycle"))
    assert any("needs a comment" in m for m in messages_of(response))
    submitted.refresh_from_db()
    assert submitted.state == PromiseState.IN_REVIEW


def test_deciding_a_decided_gate_again_is_a_conflict_message(client, submitted, service_user, service_user2):
    for user in (service_user, service_user2):
        make_superuser(user)
    review = open_review(submitted)
    url = reverse("admin:qualitygates_gatereview_decide", args=[review.pk])
    data = decide_data(review, "go")
    client.force_login(service_user)
    assert client.post(url, data).status_code == 302
    client.force_login(service_user2)
    response = client.post(url, data)
    assert response.status_code == 200
    assert any("already been decided" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.decided_by == service_user


def test_conditional_go_and_mark_met(client, submitted, service_user, seller):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    due = timezone.localtime(timezone.now() + dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]), decide_data(
        review, "go", conditions=[{"description": "Second technician hired for the region",
                                   "owner": str(seller.pk), "due_at": due}]))
    assert response.status_code == 302
    condition = GateCondition.objects.get(review=review)
    assert (condition.owner, condition.state) == (seller, ConditionState.OPEN)
    # The review page links to the mark-met page, which runs gate_condition_meet
    meet_url = reverse("admin:qualitygates_gatecondition_meet", args=[condition.pk])
    assert meet_url in client.get(reverse("admin:qualitygates_gatereview_change", args=[review.pk])).content.decode()
    response = client.post(meet_url, {"note": "Hired in Regensburg"})
    assert response.status_code == 302
    condition.refresh_from_db()
    assert (condition.state, condition.resolved_by, condition.note) == (ConditionState.MET, service_user,
                                                                        "Hired in Regensburg")
    # Marking it again is refused with the rule, not a 500
    response = client.post(meet_url, {"note": "again"})
    assert response.status_code == 200
    assert any("not open" in m for m in messages_of(response))


def test_a_condition_in_the_past_is_refused(client, submitted, service_user, seller):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    past = timezone.localtime(timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]), decide_data(
        review, "go", conditions=[{"description": "Too late", "owner": str(seller.pk), "due_at": past}]))
    assert response.status_code == 200
    assert any("must lie in the future" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN
    assert not GateCondition.objects.exists()


def test_hold_then_resume_through_the_admin(client, submitted, service_user):
    make_superuser(service_user)
    client.force_login(service_user)
    review = open_review(submitted)
    client.post(reverse("admin:qualitygates_gatereview_decide", args=[review.pk]),
                decide_data(review, "hold", comment="Waiting for the site survey"))
    submitted.refresh_from_db()
    assert submitted.state == PromiseState.ON_HOLD
    resume_url = reverse("admin:qualitygates_gatereview_resume", args=[review.pk])
    assert resume_url in client.get(reverse("admin:qualitygates_gatereview_change", args=[review.pk])).content.decode()
    response = client.post(resume_url, {"comment": "Survey received"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    review.refresh_from_db()
    assert (submitted.state, review.state) == (PromiseState.IN_REVIEW, ReviewState.OPEN)
    # Resuming an open gate is refused with the rule
    response = client.post(resume_url, {"comment": ""})
    assert response.status_code == 200
    assert any("not on hold" in m for m in messages_of(response))


def test_bulk_mark_met_reports_each_condition(admin_client, make_promise, seller, service_user):
    drive_promises(make_promise, seller=seller, service_user=service_user, count=2)
    conditions = list(GateCondition.objects.order_by("pk"))
    response = admin_client.post(reverse("admin:qualitygates_gatecondition_changelist"), {
        "action": "meet_selected", "_selected_action": [c.pk for c in conditions]}, follow=True)
    assert response.status_code == 200
    assert any(m.startswith("Marked met: 2") for m in messages_of(response))
    assert set(GateCondition.objects.values_list("state", flat=True)) == {ConditionState.MET}


def test_gate_reviews_cannot_be_added_edited_or_deleted_by_hand(admin_client, submitted):
    review = open_review(submitted)
    assert admin_client.get(reverse("admin:qualitygates_gatereview_add")).status_code == 403
    assert admin_client.get(reverse("admin:qualitygates_gatereview_delete", args=[review.pk])).status_code == 403
    admin_client.post(reverse("admin:qualitygates_gatereview_change", args=[review.pk]), {"state": "passed"})
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN
    assert GateReview.objects.filter(promise=submitted).count() == 4
