"""Load the demo data set (demo/seed.py). Safe to run again: nothing is duplicated."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from demo.people import ADMIN_USERNAME, DEMO_USERS, demo_password
from demo.seed import seed_demo


class Command(BaseCommand):
    help = "Load a realistic demo: teams, users per role, categories with gate plans, promises in every state."

    def handle(self, *args, **options):
        started = time.monotonic()
        summary = seed_demo()
        created = summary.pop("promises_created")
        states = ", ".join(f"{k.removeprefix('state_')} {v}" for k, v in summary.items())
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready in {time.monotonic() - started:.1f}s: {created} promises created; by state: {states}."))
        logins = ", ".join(f"{u} / {demo_password(u)}" for u in [ADMIN_USERNAME, *(u for u, _f, _l in DEMO_USERS)])
        self.stdout.write(f"Demo logins (username / password): {logins}")
