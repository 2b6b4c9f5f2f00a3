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
    roles.SERVICE: "BY", roles.DELIVERY: "BY",
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
]
ADMIN_USERNAME = "admin"


def demo_password(username: str) -> str:
    return f"demo-{username}"


VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
# What each kind of team may do in the admin (the services still enforce the product's rules).
MAKER_PERMISSIONS = {
    "promises": {"servicepromise": (VIEW, ADD, CHANGE, DELETE), "customer": (VIEW, ADD, CHANGE),
                 "promisecategory": (VIEW,), "transitionlog": (VIEW,)},
    "qualitygates": {"gatereview": (VIEW,), "gatecheck": (VIEW,), "gatecondition": (VIEW,), "gateplan": (VIEW,),
                     "gatedefinition": (VIEW,), "gatecriterion": (VIEW,), "workingcalendar": (VIEW,)},
    "notifications": {"*": (VIEW,)},
    "feedback": {"*": (VIEW,)},
}
GATEKEEPER_PERMISSIONS = {
    "promises": {"servicepromise": (VIEW,), "customer": (VIEW,), "promisecategory": (VIEW,),
                 "transitionlog": (VIEW,)},
    "qualitygates": {"gatereview": (VIEW,), "gatecheck": (VIEW,), "gatecondition": (VIEW,), "gateplan": (VIEW,),
                     "gatedefinition": (VIEW,), "gatecriterion": (VIEW,), "workingcalendar": (VIEW,),
                     "calendarclosure": (VIEW,)},
    "notifications": {"*": (VIEW,)},
    "feedback": {"*": (VIEW, ADD)},
}
MANAGER_PERMISSIONS = {
    "promises": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "qualitygates": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "notifications": {"*": (VIEW,), "webhooksubscription": (VIEW, ADD)},
    "feedback": {"*": (VIEW, ADD, CHANGE, DELETE)},
    "auth": {"user": (VIEW,), "group": (VIEW, CHANGE)},
}


def _permissions(spec: dict[str, dict[str, tuple[str, ...]]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, models in spec.items():
        for model, actions in models.items():
            for action in actions:
                if model == "*":
                    query |= Q(content_type__app_label=app_label, codename__startswith=f"{action}_")
                else:
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
        spec = (MANAGER_PERMISSIONS if name == roles.MANAGERS
                else MAKER_PERMISSIONS if name in roles.PROMISE_MAKER_TEAMS else GATEKEEPER_PERMISSIONS)
        team.permissions.add(*_permissions(spec))
        teams[name] = team
    return teams


def seed_users(*, teams: dict[str, Group]) -> dict[str, User]:
    users, created_users = {}, []
    for username, first, last in DEMO_USERS:
        team = teams[roles.MANAGERS if username == "manager" else username]
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@demo.example.com", "is_staff": True,
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
    # deliberately slow and releases the GIL, so the eight hashes are computed side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(lambda u: make_password(demo_password(u.username)), created_users))
    for user, hashed in zip(created_users, hashes, strict=True):
        user.password = hashed
        user.save(update_fields=["password"])
    return users

