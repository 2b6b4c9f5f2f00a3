"""The demo data set of `manage.py seed_demo`: teams with working calendars, one user per role,
categories with gate plans, German customers, promises in every state, and the KVP loop's feedback,
improvement items and guidance. Safe to run any number of times: what exists is left as it is."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils import timezone

from core import roles
from promises.models import ServicePromise

from .catalogue import seed_categories, seed_customers
from .clock import DemoClock
from .kvp import seed_kvp
from .people import seed_teams, seed_users
from .promises import seed_promises


def seed_demo(*, clock: DemoClock | None = None) -> dict[str, int]:
    clock = clock or DemoClock(timezone.now())
    with transaction.atomic():
        teams = seed_teams(today=clock.today)
        users = seed_users(teams=teams)
        categories = seed_categories(teams=teams, manager=users["manager"], clock=clock)
        customers = seed_customers(maker=users[roles.SALES], clock=clock)
    created = seed_promises(users=users, categories=categories, customers=customers, clock=clock)
    seed_kvp(users=users, categories=categories, clock=clock)
    states = Counter(ServicePromise.objects.filter(crm_reference__startswith="DEMO-").values_list("state", flat=True))
    return {"promises_created": created, **{f"state_{k}": v for k, v in sorted(states.items())}}
