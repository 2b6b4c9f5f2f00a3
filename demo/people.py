"""The demo's people: the product's teams with Berlin working calendars, one user per role with a
known password, and what each kind of team may do in the admin. Configuration, created with
get_or_create on natural keys: a second run finds it and changes nothing."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from core import roles
from qualitygates.models import CalendarClosure, WorkingCalendar

User = get_user_model()

# Sales, marketing and management sit in Düsseldorf (NW); service and delivery work out of Munich (BY).
TEAM_HOLIDAY_STATE = {
    roles.SALES: "NW", roles.MARKETING: "NW", roles.PRESALES: "NW", roles.MANAGERS: "NW", roles.LEGAL: "NW",
    roles.SERVICE: "BY", roles.DELIVERY: "BY", roles.OPERATORS: "NW",
}

# username == team name; the password is "demo-<username>" (README.md, "Demo users").
DEMO_USERS = [
    (roles.SALES, "Sabine", "Schmidt"),
    (roles.MARKETING, "Markus", "Meier"),
    (roles.PRESALES, "Petra", "Pohl"),
    (roles.SERVICE, "Stefan", "Becker"),
    (roles.DELIVERY, "Daniela", "Wagner"),
    (roles.LEGAL, "Lars", "Hoffmann"),
    ("manager", "Monika", "Fischer"),
    ("operator", "Olaf", "Krause"),
]
# The demo user's team, where the username is not the team's name.
USER_TEAM = {"manager": roles.MANAGERS, "operator": roles.OPERATORS}
ADMIN_USERNAME = "admin"


def demo_password(username: str) -> str:
    return f"demo-{username}"


VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
# What each role may do in the admin: configuration for managers, support for operators
# (core.roles.ADMIN_MODELS bounds it; promise makers and gatekeepers work through the API).
ROLE_PERMISSIONS = {
    roles.MANAGERS: {app_model: (VIEW, ADD, CHANGE, DELETE) for app_model in roles.ADMIN_MODELS[roles.MANAGERS]},
    roles.OPERATORS: {app_model: (VIEW,) for app_model in roles.ADMIN_MODELS[roles.OPERATORS]},
}


def _permissions(spec: dict[str, tuple[str, ...]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_model, actions in spec.items():
        app_label, model = app_model.split(".")
        for action in actions:
            query |= Q(content_type__app_label=app_label, codename=f"{action}_{model}")
    return list(Permission.objects.filter(query))


def seed_teams(*, today: dt.date) -> dict[str, Group]:
    teams = {}
    for name in roles.ALL_TEAMS:
        team, _ = Group.objects.get_or_create(name=name)
        calendar, _ = WorkingCalendar.objects.get_or_create(team=team, defaults={
            "time_zone": "Europe/Berlin", "working_days": "0,1,2,3,4", "day_starts": dt.time(8, 0),
            "day_ends": dt.time(17, 0), "holiday_country": "DE", "holiday_subdivision": TEAM_HOLIDAY_STATE[name],
        })
        # Closed between the years, as most German companies are.
        for year in (today.year, today.year + 1):
            for day, label in ((24, "Heiligabend (Betriebsruhe)"), (31, "Silvester (Betriebsruhe)")):
                CalendarClosure.objects.get_or_create(calendar=calendar, date=dt.date(year, 12, day),
                                                      defaults={"name": label})
        team.permissions.add(*_permissions(ROLE_PERMISSIONS.get(name, {})))
        teams[name] = team
    return teams


def seed_users(*, teams: dict[str, Group]) -> dict[str, User]:
    users, created_users = {}, []
    for username, first, last in DEMO_USERS:
        team = teams[USER_TEAM.get(username, username)]
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@demo.example.com",
            "is_staff": team.name in roles.ADMIN_MODELS,
        })
        if created:
            created_users.append(user)
        user.groups.add(team)
        users[username] = user
    admin, created = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={
        "email": "admin@demo.example.com", "is_staff": True, "is_superuser": True,
    })
    if created:
        created_users.append(admin)
    users[ADMIN_USERNAME] = admin
    # Only on creation: a second run must not reset a password someone changed. The hasher is
    # deliberately slow and releases the GIL, so the hashes are computed side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(lambda u: make_password(demo_password(u.username)), created_users))
    for user, hashed in zip(created_users, hashes, strict=True):
        user.password = hashed
        user.save(update_fields=["password"])
    return users

