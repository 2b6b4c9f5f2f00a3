"""My work (`/`): what waits for the user, by role, with counts that link to the lists behind them;
and the global search over the promises the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from feedback.selectors.improvements import improvements_awaiting_decision
from feedback.selectors.signals import early_warnings_open
from promises.selectors import (
    SearchQueryRefused,
    WorkList,
    promise_broken_this_month,
    promise_search,
    promise_work_for_maker,
    search_text,
)
from qualitygates.selectors import gate_work_open
from web.templatetags.web_format import duration

SEARCH_PAGE_SIZE = 20
# A gate due within this much time shows an amber badge: decide it today.
DUE_SOON = dt.timedelta(hours=4)
# A manager's overview names a few of each and links to the full list.
MANAGER_LIST_LIMIT = 5


@dataclass(frozen=True)
class WorkCount:
    """One figure of a section, linking to the list behind it."""

    key: str
    label: str
    count: int
    url: str
    items: list
    tone: str = ""


@dataclass(frozen=True)
class TimeBadge:
    tone: str  # ok / warn / danger / neutral: the colour; the text says the same
    text: str


def _promise_list_url(**filters) -> str:
    return f"{reverse('web:promise-list')}?{urlencode(filters)}"


MAKER_LISTS = {
    "rework": (_("Sent back for rework"), {"state": "rework", "mine": 1}),
    "draft": (_("Drafts to finish and submit"), {"state": "draft", "mine": 1}),
    "approved": (_("Approved: commit to the customer"), {"state": "approved", "mine": 1}),
    "handover": (_("Committed: hand over to delivery"), {"state": "committed", "mine": 1}),
    "verify": (_("In delivery: verify the outcome"), {"state": "in_delivery", "mine": 1}),
    "overdue": (_("Overdue"), {"due": "overdue", "mine": 1}),
}


def time_badge(time_left: dt.timedelta | None) -> TimeBadge:
    if time_left is None:
        return TimeBadge("neutral", str(_("No due time")))
    if time_left < dt.timedelta(0):
        return TimeBadge("danger", str(_("Overdue by %(time)s")) % {"time": duration(-time_left)})
    if time_left <= DUE_SOON:
        return TimeBadge("warn", str(_("Due in %(time)s")) % {"time": duration(time_left)})
    return TimeBadge("ok", str(_("Due in %(time)s")) % {"time": duration(time_left)})


def _with_badges(work: WorkList) -> WorkList:
    for review in work.items:
        review.badge = time_badge(review.time_left)
    return work


def _maker_section(user, now) -> list[WorkCount] | None:
    lists = promise_work_for_maker(user=user, now=now)
    if not roles.maker_departments(user) and not any(work.count for work in lists):
        return None
    return [WorkCount(work.key, MAKER_LISTS[work.key][0], work.count, _promise_list_url(**MAKER_LISTS[work.key][1]),
                      work.items, tone="danger" if work.key == "overdue" and work.count else "")
            for work in lists]


def _gatekeeper_section(user, now) -> dict | None:
    if not roles.team_names(user) & set(roles.GATEKEEPER_TEAMS):
        return None
    gates = _with_badges(gate_work_open(user=user, now=now))
    return {"gates": gates, "queue_url": reverse("web:gate-queue")}


def _manager_section(user, now) -> list[WorkCount] | None:
    if not roles.is_manager(user):
        return None
    overdue = _with_badges(gate_work_open(user=user, now=now, teams_only=False, overdue_only=True,
                                          limit=MANAGER_LIST_LIMIT))
    broken = promise_broken_this_month(user=user, now=now, limit=MANAGER_LIST_LIMIT)
    waiting = improvements_awaiting_decision(user=user, limit=MANAGER_LIST_LIMIT)
    warnings = early_warnings_open(user=user, limit=MANAGER_LIST_LIMIT)
    board = reverse("web:kvp-board")
    return [
        WorkCount("overdue_gates", _("Overdue gates"), overdue.count, reverse("web:dashboard") + "#overdue",
                  overdue.items, tone="danger" if overdue.count else ""),
        WorkCount("broken", _("Promises broken this month"), broken.count, _promise_list_url(state="broken"),
                  broken.items, tone="danger" if broken.count else ""),
        WorkCount("awaiting_decision", _("Improvements waiting for a decision"), waiting.count, board,
                  waiting.items),
        WorkCount("early_warnings", _("Early warnings"), warnings.count, board, warnings.items,
                  tone="warn" if warnings.count else ""),
    ]


@login_required
def home(request):
    user, now = request.user, timezone.now()
    context = {
        "maker": _maker_section(user, now),
        "gatekeeper": _gatekeeper_section(user, now),
        "manager": _manager_section(user, now),
        "operator": roles.is_operator(user),
    }
    context["nothing"] = not any(context.values())
    return render(request, "web/home/home.html", context)


@login_required
def search(request):
    raw = request.GET.get("q", "")
    context = {"search_query": raw[:200].replace("\x00", "")}
    try:
        text = search_text(raw)
    except SearchQueryRefused as refused:
        context["refused"] = str(refused)
        return render(request, "web/home/search.html", context)
    page = Paginator(promise_search(user=request.user, text=text), SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(text=text, page=page, page_query=urlencode({"q": text}))
    return render(request, "web/home/search.html", context)
