"""/promises/: the promises the reader may see, filtered, searched, sorted, a page at a time."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from core import roles
from promises.selectors import OPEN_STATES, promise_browse

from .forms import PromiseFilterForm
from .labels import state_tone

PAGE_SIZE = 25
PAGE_MAX = 10_000


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or 1), 1), PAGE_MAX)
    except (TypeError, ValueError):
        return 1


@login_required
def promise_list(request):
    form = PromiseFilterForm(request.GET, user=request.user)
    filters = form.filters()
    today = timezone.localdate()
    page = _page_number(request.GET.get("page"))
    offset = (page - 1) * PAGE_SIZE
    # One row more than a page says whether there is a next one, without counting the whole table.
    rows = list(promise_browse(user=request.user, today=today, **filters)[offset:offset + PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/promises/list.html", {
        "form": form,
        "promises": [(p, state_tone(p.state), p.state in OPEN_STATES and p.due_date < today)
                     for p in rows[:PAGE_SIZE]],
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "query": query.urlencode(),
        "can_create": roles.is_promise_maker(request.user),
        "filtered": any(v for k, v in filters.items() if k != "sort"),
    })
