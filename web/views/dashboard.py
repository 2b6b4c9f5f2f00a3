"""The managers' dashboard: keep rate by month and category, where promises wait, overdue gates now,
what customers said, early warnings and gate escapes — charts drawn on the server, each linking to
the list behind it, filtered by a date range and a category."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles
from feedback import conf
from feedback.models import OPEN_IMPROVEMENT_STATES, FeedbackChannel, FeedbackKind, ImprovementOrigin
from feedback.selectors import charts as series
from feedback.selectors.improvements import improvement_list
from feedback.selectors.signals import gate_escapes
from promises.models import PromiseCategory, PromiseState
from qualitygates.models import GateStep
from web.charts import Bar, Series, bar_chart, count_axis_max, duration_axis_max, line_chart
from web.templatetags.web_format import hours as format_hours
from web.templatetags.web_format import number
from web.views.promises.labels import team_label

# A wider range would draw more months than a chart can label; the summaries answer longer questions.
MAX_RANGE_DAYS = 3 * 366
# The keep-rate trend draws the busiest categories; the table lists them all.
MAX_CATEGORY_LINES = 5
MAX_BARS = 10


class DashboardFilter(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=gettext_lazy("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), required=False,
                                      queryset=PromiseCategory.objects.order_by("name", "id"),
                                      empty_label=gettext_lazy("All categories"))

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # Date inputs send ISO dates whatever the page's language.
        for name in ("date_from", "date_to"):
            self.fields[name].input_formats = ["%Y-%m-%d"]

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if self.errors:
            return data
        last = last or self.today
        first = first or default_first_day(last)
        if first > last:
            self.add_error("date_to", _("The end of the range must not lie before its start."))
        elif (last - first).days > MAX_RANGE_DAYS:
            self.add_error("date_from", _("The range can span at most three years."))
        data["date_from"], data["date_to"] = first, last
        return data


def default_first_day(last: dt.date) -> dt.date:
    """Twelve months up to `last`: the first day of the month eleven months before it."""
    month = last.replace(day=1)
    for _step in range(11):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def _month_label(month: dt.date) -> str:
    return formats.date_format(month, "M y")


def _percent(value: float) -> str:
    return f"{number(value, 0)} %"


def _hours(value: float) -> str:
    return format_hours(value)


def _promise_list(**params) -> str:
    return f"{reverse('web:promise-list')}?{urlencode(params)}"


def keep_rate_chart(rows: list[dict], months: list[dt.date], category_id: int | None,
                    names: dict[int, str] | None = None):
    """The overall keep rate and the busiest categories' as lines over the months, each category
    named in the reader's language (`names`: id → display name)."""
    names = names or {}
    overall: dict[dt.date, list[int]] = {}
    by_category: dict[int, dict] = {}
    for r in rows:
        totals = overall.setdefault(r["month"], [0, 0])
        totals[0] += r["kept"]
        totals[1] += r["kept"] + r["broken"]
        entry = by_category.setdefault(r["category_id"], {"name": names.get(r["category_id"], r["category"]),
                                                          "n": 0, "months": {}})
        entry["n"] += r["kept"] + r["broken"]
        entry["months"][r["month"]] = r["keep_rate"]

    def pct(v) -> float | None:
        return float(v * 100) if v is not None else None

    lines = []
    if not category_id:
        lines.append(Series(_("All categories"),
                            [pct(Decimal(overall[m][0]) / overall[m][1]) if m in overall else None for m in months],
                            _promise_list(state=PromiseState.BROKEN)))
    busiest = sorted(by_category.items(), key=lambda item: (-item[1]["n"], item[1]["name"]))[:MAX_CATEGORY_LINES]
    for cid, entry in busiest:
        lines.append(Series(entry["name"], [pct(entry["months"].get(m)) for m in months],
                            _promise_list(category=cid)))
    return line_chart(label=_("Keep rate by month and category"), x_labels=[_month_label(m) for m in months],
                      series=lines, fmt=_percent, y_min=0, y_max=100, y_title=_("kept, % of verified"),
                      first_column=_("Month"))


def lead_time_chart(rows: list[dict]):
    steps = dict(GateStep.choices)
    bars = [Bar(label=f"{r['gate']} · {team_label(r['team'])}", values=[r["p90_hours"], r["median_hours"]],
                href=f"{reverse('web:gate-queue')}?{urlencode({'team': r['team_id']})}",
                note=_("%(step)s; %(decided)s passed, %(open)s open now") % {
                    "step": steps.get(r["step"], r["step"]), "decided": r["decided"], "open": r["open_now"]})
            for r in rows if r["decided"]][:MAX_BARS]
    longest = max((v or 0 for b in bars for v in b.values), default=0)
    return bar_chart(label=_("Gate lead time by gate and team: 90th percentile and median"), bars=bars,
                     series=[_("90th percentile"), _("Median")], fmt=_hours, first_column=_("Gate · team"),
                     x_max=duration_axis_max(longest))


def feedback_chart(rows: list[dict]):
    kinds = [k for k in FeedbackKind if any(r["kind"] == k for r in rows)]
    channels = dict(FeedbackChannel.choices)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["channel"], {})[r["kind"]] = r["count"]
    ordered = sorted(counts.items(), key=lambda item: -sum(item[1].values()))
    admin_list = reverse("admin:feedback_feedback_changelist")
    bars = [Bar(label=str(channels.get(channel, channel)), values=[by_kind.get(k, 0) for k in kinds],
                href=f"{admin_list}?{urlencode({'channel__exact': channel})}") for channel, by_kind in ordered]
    most = max((sum(b.values) for b in bars), default=0)
    return bar_chart(label=_("Feedback by channel and kind"), bars=bars, series=[k.label for k in kinds],
                     fmt=lambda v: number(v, 0), stacked=True, first_column=_("Channel"), x_max=count_axis_max(most))


def score_charts(rows: list[dict], months: list[dt.date]):
    by_month = {r["month"]: r for r in rows}
    labels = [_month_label(m) for m in months]
    csat = line_chart(label=_("CSAT by month (average, 1 to 5)"), x_labels=labels, first_column=_("Month"),
                      series=[Series(_("CSAT"), [by_month[m]["csat_average"] if m in by_month else None
                                                 for m in months])],
                      fmt=lambda v: number(v, 1), y_min=1, y_max=5, height=180)
    nps = line_chart(label=_("NPS by month (promoters minus detractors, −100 to 100)"), x_labels=labels,
                     first_column=_("Month"),
                     series=[Series(_("NPS"), [by_month[m]["nps"] if m in by_month else None for m in months])],
                     fmt=lambda v: number(v, 0), y_min=-100, y_max=100, height=180)
    return csat, nps


def escape_chart(rows: list[dict], threshold: Decimal):
    bars = [Bar(label=f"{r['gate']} · {r['category']}", values=[float(r["escape_rate"] * 100)],
                href=_promise_list(category=r["definition"].plan.category_id, state=PromiseState.BROKEN),
                note=_("%(escaped)s of %(verified)s verified broke") % {"escaped": r["escaped"],
                                                                         "verified": r["verified"]})
            for r in rows if r["escape_rate"] is not None][:MAX_BARS]
    return bar_chart(label=_("Gate escapes: share of verified promises that passed the gate and broke"),
                     bars=bars, series=[_("Escape rate")], fmt=_percent, x_max=100,
                     marker=float(threshold * 100), marker_label=_("Threshold"), first_column=_("Gate · category"))


@login_required
def dashboard(request):
    if not roles.is_manager(request.user):
        raise PermissionDenied(_("The dashboard is for managers."))
    now = timezone.now()
    today = timezone.localdate(now)
    form = DashboardFilter(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        first, last = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        category = form.cleaned_data["category"]
    else:
        first, last, category = default_first_day(today), today, None
        if not form.is_bound:
            form = DashboardFilter(initial={"date_from": first, "date_to": last}, today=today)
    period = series.Period(first, last)
    category_id = category.pk if category else None
    months = period.months()

    keep_rows = series.keep_rate_by_month(period=period, category_id=category_id)
    lead_rows = series.gate_lead_times(period=period, category_id=category_id, now=now)
    overdue = series.overdue_gates(user=request.user, now=now, category_id=category_id, limit=10)
    feedback_rows = series.feedback_by_channel_and_kind(period=period, category_id=category_id)
    score_rows = series.scores_by_month(period=period, category_id=category_id)
    threshold = Decimal(str(conf.get("KVP_GATE_ESCAPE_THRESHOLD")))
    escapes = [r for r in gate_escapes() if not category_id or r["definition"].plan.category_id == category_id]
    escapes.sort(key=lambda r: (not r["flagged"], -(r["escape_rate"] or 0)))
    warnings = list(improvement_list(user=request.user, states=OPEN_IMPROVEMENT_STATES)
                    .filter(origin__in=[ImprovementOrigin.EARLY_WARNING, ImprovementOrigin.GATE_ESCAPE]))

    kept = sum(r["kept"] for r in keep_rows)
    broken = sum(r["broken"] for r in keep_rows)
    csat, nps = score_charts(score_rows, months)
    return render(request, "web/dashboard/dashboard.html", {
        "form": form,
        "period": period,
        "category": category,
        # The summaries are kept in the same transaction as the changes, the edges read raw: current.
        "as_of": None,
        "totals": {"kept": kept, "broken": broken, "verified": kept + broken,
                   "keep_rate": (kept * 100 / (kept + broken)) if kept + broken else None,
                   "feedback": sum(r["count"] for r in feedback_rows), "overdue": overdue["total"]},
        "keep_chart": keep_rate_chart(keep_rows, months, category_id, names={
            c.pk: c.display_name for c in PromiseCategory.objects.only("pk", "name", "name_de")}),
        "lead_chart": lead_time_chart(lead_rows),
        "waiting": [r for r in lead_rows if r["open_now"]][:MAX_BARS],
        "overdue": overdue,
        "feedback_chart": feedback_chart(feedback_rows),
        "csat_chart": csat,
        "nps_chart": nps,
        "escape_chart": escape_chart(escapes, threshold),
        "escapes": escapes[:MAX_BARS],
        "warnings": warnings,
        "links": {
            "broken": _promise_list(state=PromiseState.BROKEN, **({"category": category_id} if category_id else {})),
            "gates": reverse("web:gate-queue"),
            "kvp": reverse("web:kvp-board"),
            "feedback": reverse("admin:feedback_feedback_changelist"),
        },
    })
