"""Helpers for the admin tests: staff log-in with model permissions, promises driven through their
gates (so every admin list has real rows), counting queries, and re-posting a rendered admin form."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from promises import services as ps
from qualitygates import services as gs
from qualitygates.conditions import ConditionInput
from qualitygates.models import GateReview, ReviewState
from tests.factories import all_checks_met


def make_staff(user, *codenames: str):
    """Staff with exactly these model permissions (codenames like 'view_gatereview')."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    if codenames:
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def make_superuser(user):
    """A superuser who keeps their teams: since the admin is for configuration and operations, only a
    superuser works on business records there, and the services still apply the team's rules."""
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def open_review(promise) -> GateReview:
    return GateReview.objects.get(promise_id=promise.pk, state=ReviewState.OPEN)


def drive_promises(make_promise, *, seller, service_user, count: int) -> list:
    """`count` promises, each submitted and passed at its first gate with a condition: a promise,
    gate reviews with checks, a condition, trail entries and outbox events per promise."""
    promises = []
    for i in range(count):
        promise = make_promise(title=f"Technician on site within 4 hours #{i}")
        ps.promise_submit(promise_id=promise.pk, user=seller)
        review = open_review(promise)
        gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review),
                       conditions=[ConditionInput(description="Spare parts stocked in the Munich depot",
                                                  owner=seller, due_at=timezone.now() + dt.timedelta(days=10))])
        promises.append(promise)
    return promises


def count_queries(client, url: str, *, assert_max=None, bound: int | None = None) -> int:
    """Queries of one GET of the page (at most `bound`, checked by pytest-django's
    django_assert_max_num_queries passed as `assert_max`), measured after a first GET has warmed the
    per-process caches (content types, permissions): two measurements differ only by the page's work."""
    client.get(url)
    context = assert_max(bound) if assert_max is not None else CaptureQueriesContext(connection)
    with context as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


class _FormScraper(HTMLParser):
    """Collects what a browser would submit from the first POST form of a page."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._select_multiple = False
        self._selected: list[str] = []
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._in_form = True
        if not self._in_form or not a.get("name") and tag != "option":
            return
        name = a.get("name")
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select, self._select_multiple = name, "multiple" in a
            self._selected, self._first_option = [], None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._selected.append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self.data.setdefault(name, []).append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            # A single select without a selected option submits its first option, as a browser does.
            values = self._selected or ([] if self._select_multiple else [self._first_option or ""])
            self.data.setdefault(self._select, []).extend(values)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.data[self._textarea][-1] += data


def form_data(html: str) -> dict[str, list[str] | str]:
    scraper = _FormScraper()
    scraper.feed(html)
    # A textarea's content starts after a newline the browser drops.
    return {k: [re.sub(r"^\r?\n", "", v) for v in vals] for k, vals in scraper.data.items()}
