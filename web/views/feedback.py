"""Feedback intake for service staff: channel, kind, severity, score, text, and the promise it is
about, found by search (an htmx fragment of the promises the reader may see)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.errors import DomainError, NotAllowed
from feedback.models import FeedbackChannel, FeedbackKind, Severity
from feedback.services.access import require_team_member
from feedback.services.intake import feedback_record
from promises import selectors as promise_selectors
from promises.models import PromiseCategory, ServicePromise
from promises.selectors import promise_list
from web.forms import form_add_domain_error

# Recorded by the product itself (a broken promise's outcome) or by the customer (the status page).
NOT_BY_STAFF = {FeedbackChannel.SYSTEM, FeedbackChannel.STATUS_PAGE}
SEARCH_MIN_CHARS = 2
SEARCH_LIMIT = 10


def _visible_promise(user, promise_id) -> ServicePromise | None:
    if not promise_id:
        return None
    return promise_list(user=user).filter(pk=promise_id).first()


class FeedbackForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"),
                                choices=[c for c in FeedbackChannel.choices if c[0] not in NOT_BY_STAFF])
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=FeedbackKind.choices)
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    # The ranges are the service's rule (and its message); the browser only hints at them.
    csat_score = forms.IntegerField(label=gettext_lazy("CSAT score (1–5)"), required=False,
                                    widget=forms.NumberInput(attrs={"min": 1, "max": 5, "inputmode": "numeric"}))
    nps_score = forms.IntegerField(label=gettext_lazy("NPS score (0–10)"), required=False,
                                   widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}))
    text = forms.CharField(label=gettext_lazy("What the customer said"), required=False, max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    promise = forms.IntegerField(label=gettext_lazy("Promise"), required=False, widget=forms.HiddenInput)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"), required=False, queryset=PromiseCategory.objects.order_by("name", "id"),
        empty_label=gettext_lazy("— from the promise —"),
        help_text=gettext_lazy("Needed only when the feedback is about no particular promise."))
    received_at = forms.DateField(label=gettext_lazy("Received on"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  help_text=gettext_lazy("Today unless given."))
    external_reference = forms.CharField(label=gettext_lazy("Ticket or survey reference"), required=False,
                                         max_length=100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["received_at"].input_formats = ["%Y-%m-%d"]

    def clean_promise(self):
        promise_id = self.cleaned_data.get("promise")
        if promise_id is None:
            return None
        promise = _visible_promise(self.user, promise_id)
        if promise is None:
            raise forms.ValidationError(_("Pick a promise from the search: this one does not exist or is not yours "
                                          "to see."))
        return promise

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        received = data["received_at"]
        return {
            "channel": FeedbackChannel(data["channel"]), "kind": FeedbackKind(data["kind"]),
            "severity": Severity(data["severity"]), "csat_score": data["csat_score"], "nps_score": data["nps_score"],
            "text": data["text"], "promise": data["promise"], "category": data["category"],
            "external_reference": data["external_reference"],
            # A day without a time: noon of that day, as the import reads one.
            "received_at": dt.datetime.combine(received, dt.time(12, 0), tzinfo=timezone.get_current_timezone())
            if received else None,
        }


def _require_recorder(user) -> None:
    try:
        require_team_member(user, _("Only members of a team may record feedback."))
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc


@login_required
def feedback_new(request):
    _require_recorder(request.user)
    if request.method == "POST":
        form = FeedbackForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                item = feedback_record(user=request.user, **form.service_kwargs())
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except DomainError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, _("Feedback recorded: %(kind)s via %(channel)s.") % {
                    "kind": item.get_kind_display(), "channel": item.get_channel_display()})
                if item.promise_id:
                    return redirect("web:promise-detail", promise_id=item.promise_id)
                return redirect("web:feedback-new")
        status = 400
    else:
        form = FeedbackForm(initial={"promise": request.GET.get("promise")}, user=request.user)
        status = 200
    picked = None
    raw = form["promise"].value()
    if raw not in (None, ""):
        try:
            picked = _visible_promise(request.user, int(raw))
        except (TypeError, ValueError):
            picked = None
    return render(request, "web/feedback/new.html", {"form": form, "picked": picked}, status=status)


@require_GET
@login_required
def promise_search(request):
    """The htmx fragment: visible promises matching a title, customer or CRM reference, to pick one."""
    _require_recorder(request.user)
    # As typed, less what no text column can hold (a NUL byte is a database error, not a match).
    query = " ".join(request.GET.get("q", "").replace("\x00", "").split())[:100]
    results = []
    if len(query) >= SEARCH_MIN_CHARS:
        results = list(promise_selectors.promise_search(user=request.user, text=query)[:SEARCH_LIMIT])
    return render(request, "web/feedback/_promise_results.html",
                  {"results": results, "query": query, "too_short": 0 < len(query) < SEARCH_MIN_CHARS})
