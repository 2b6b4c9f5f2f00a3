"""The inbox (`/inbox/`): the user's own notifications, unread first, each linking to the page where
the work is done; mark one or all read (htmx swaps the item and the bell; without JS, a redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import NotFound
from core.ids import as_id
from notifications.selectors import inbox_list
from notifications.user_settings import inbox_mark_all_read, inbox_mark_read

PAGE_SIZE = 20


def item_target(item) -> str:
    """Where an item leads, as a path on this site: e-mails carry the configured site's full URL,
    the inbox is read on whichever host served it. Items written before the product had its own
    pages pointed at the admin; a promise's item now leads to the promise's page."""
    parts = urlsplit(item.link or "")
    path = parts.path or ""
    if not path.startswith("/") or path.startswith("//"):
        path = ""
    if path.startswith("/admin/") and item.subject.startswith("promise:"):
        promise_id = as_id(item.subject.partition(":")[2])
        if promise_id:
            return reverse("web:promise-detail", args=[promise_id])
    if not path:
        return ""
    return path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request) -> HttpResponseRedirect:
    target = request.POST.get("next") or reverse("web:inbox")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("web:inbox")
    return HttpResponseRedirect(target)


def _page(request):
    page = Paginator(inbox_list(user=request.user, unread_first=True), PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.target = item_target(item)
    return page


@login_required
def inbox(request):
    return render(request, "web/inbox/inbox.html", {"page": _page(request)})


@login_required
@require_POST
def inbox_read(request, item_id: int):
    try:
        item = inbox_mark_read(user=request.user, item_id=as_id(item_id) or 0)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if _is_htmx(request):
        item.target = item_target(item)
        return render(request, "web/inbox/_item_swap.html", {"item": item, "inbox_next": reverse("web:inbox")})
    return _back(request)


@login_required
@require_POST
def inbox_read_all(request):
    inbox_mark_all_read(user=request.user)
    if _is_htmx(request):
        return render(request, "web/inbox/_list_swap.html", {"page": _page(request), "inbox_next": reverse("web:inbox")})
    return _back(request)
