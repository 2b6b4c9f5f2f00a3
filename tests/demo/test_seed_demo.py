"""seed_demo: a realistic demo with promises in every state, driven through the services, and safe
to run twice."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core import roles
from demo.people import ADMIN_USERNAME, DEMO_USERS, demo_password
from notifications.models import OutboxEvent
from promises.models import Customer, PromiseCategory, PromiseState, ServicePromise, TransitionLog
from qualitygates.models import (
    CalendarClosure,
    GateCheck,
    GateCondition,
    GateCriterion,
    GateDefinition,
    GatePlan,
    GateReview,
    ReviewState,
    WorkingCalendar,
)

User = get_user_model()
COUNTED = [User, Group, WorkingCalendar, CalendarClosure, PromiseCategory, GatePlan, GateDefinition, GateCriterion,
           Customer, ServicePromise, GateReview, GateCheck, GateCondition, TransitionLog, OutboxEvent]
README = Path(__file__).resolve().parents[2] / "README.md"


def counts() -> dict[str, int]:
    result = {model.__name__: model.objects.count() for model in COUNTED}
    result["group permissions"] = Group.permissions.through.objects.count()
    result["user groups"] = User.groups.through.objects.count()
    return result


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_covers_every_state_and_a_second_run_changes_nothing(seeded):
    states = set(ServicePromise.objects.values_list("state", flat=True))
    assert states == set(PromiseState.values)
    assert ServicePromise.objects.count() >= 50
    assert PromiseCategory.objects.count() >= 4
    for plan in GatePlan.objects.prefetch_related("definitions__criteria"):
        assert 3 <= len(plan.definitions.all()) <= 5
        assert all({c.requirement for c in d.criteria.all()} & {"must"} for d in plan.definitions.all())
    # Promises past review went through real gate decisions, recorded in the trail
    closed = ServicePromise.objects.filter(state=PromiseState.CLOSED).first()
    assert not closed.gate_reviews.exclude(state__in=[ReviewState.PASSED, ReviewState.RECYCLED,
                                                       ReviewState.CANCELLED]).exists()
    assert list(TransitionLog.objects.filter(promise=closed, subject="promise").values_list("to_state", flat=True)
                ).count(PromiseState.CLOSED) == 1
    rejected = ServicePromise.objects.filter(state=PromiseState.REJECTED).first()
    assert rejected.gate_reviews.filter(decision="kill").exists()
    assert ServicePromise.objects.filter(rework_rounds__gt=0).exclude(state=PromiseState.REWORK).exists()
    assert GateCondition.objects.filter(state="met").exists() and GateCondition.objects.filter(state="open").exists()
    broken = ServicePromise.objects.filter(state=PromiseState.BROKEN).first()
    assert broken.outcome_reason and broken.actual_value is not None
    # The history spreads over past weeks, never into the future; some open gates are overdue, some not
    now = timezone.now()
    created = list(ServicePromise.objects.values_list("created_at", flat=True))
    assert max(created) <= now and max(created) - min(created) > dt.timedelta(weeks=4)
    assert TransitionLog.objects.filter(at__gt=now).count() == 0
    open_reviews = list(GateReview.objects.filter(state=ReviewState.OPEN))
    assert any(r.is_overdue for r in open_reviews) and not all(r.is_overdue for r in open_reviews)
    # Teams have Berlin working calendars with a state's public holidays
    for name in roles.ALL_TEAMS:
        calendar = WorkingCalendar.objects.get(team__name=name)
        assert (calendar.time_zone, calendar.holiday_country) == ("Europe/Berlin", "DE")
        assert calendar.holiday_subdivision in ("BY", "NW")

    # When it runs a second time (one test, so the suite seeds once for both checks)
    before = counts()
    states_before = sorted(ServicePromise.objects.values_list("crm_reference", "state"))
    call_command("seed_demo", stdout=StringIO())
    # Then nothing was added, duplicated or moved
    assert counts() == before
    assert sorted(ServicePromise.objects.values_list("crm_reference", "state")) == states_before


def test_demo_users_log_in_with_the_documented_passwords_and_use_the_admin(seeded, client):
    readme = README.read_text()
    assert "## Demo users" in readme
    usernames = [ADMIN_USERNAME, *(u for u, _first, _last in DEMO_USERS)]
    for username in usernames:
        assert f"`{username}`" in readme and f"`{demo_password(username)}`" in readme, username
        client.logout()
        assert client.login(username=username, password=demo_password(username)), username
        # the admin is for configuration (managers) and operations (operators); the others use the API
        in_admin = username in (ADMIN_USERNAME, "manager", "operator")
        assert User.objects.get(username=username).is_staff is in_admin, username
        assert client.get(reverse("admin:index")).status_code == (200 if in_admin else 302), username
        assert client.get("/api/me/").status_code == 200, username
    # The superuser and the manager (status links, personal data) see the promises in the admin; the
    # operator does not
    for username, expected in ((ADMIN_USERNAME, 200), ("manager", 200), ("operator", 403)):
        client.logout()
        client.login(username=username, password=demo_password(username))
        assert client.get(reverse("admin:promises_servicepromise_changelist")).status_code == expected, username
    # The operator supports the deliveries
    assert client.get(reverse("admin:notifications_delivery_changelist")).status_code == 200
    # A gatekeeper sees the gate their team owns through the API
    client.logout()
    client.login(username=roles.SERVICE, password=demo_password(roles.SERVICE))
    review = GateReview.objects.filter(state=ReviewState.OPEN, owning_team__name=roles.SERVICE).first()
    assert client.get(f"/api/gates/{review.pk}/").status_code == 200
    # A manager can edit gate plans
    client.logout()
    client.login(username="manager", password=demo_password("manager"))
    plan = GatePlan.objects.first()
    page = client.get(reverse("admin:qualitygates_gateplan_change", args=[plan.pk]))
    assert page.status_code == 200 and 'name="name"' in page.content.decode()
