"""A gate's row in a queue: its time-left badge in the owning team's working time and whether Decide
is offered. The gate queue uses it, and any page that lists gates waiting for someone (the home
page's "my teams' open gates") can too."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from qualitygates import selectors
from qualitygates.models import GateReview, ReviewState
from qualitygates.selectors import TimeLeft
from qualitygates.working_time import Calendar
from web.templatetags.web_format import duration_parts


@dataclass(frozen=True)
class Badge:
    text: str
    tone: str  # a pill class: ok, warn, danger, neutral


def working_duration(seconds: int, working_day: int) -> str:
    """Working time as "1 d 2 h" where a day is one of the team's working days, not 24 hours."""
    return " ".join(duration_parts(round(abs(seconds) / 60), minutes_per_day=max(working_day // 60, 1)))


def time_left_badge(left: TimeLeft | None) -> Badge | None:
    """The queue's badge: the words carry the meaning (overdue, due in, paused), the colour repeats it."""
    if left is None:
        return None
    span = working_duration(left.seconds, left.working_day)
    if left.paused:
        return Badge(_("on hold, %(time)s left") % {"time": span}, "neutral")
    if left.overdue:
        return Badge(_("overdue by %(time)s") % {"time": span}, "danger")
    return Badge(_("due in %(time)s") % {"time": span}, "warn" if left.seconds < left.working_day else "ok")


@dataclass(frozen=True)
class QueueRow:
    review: GateReview
    badge: Badge | None
    overdue: bool
    may_decide: bool


def queue_rows(user, reviews: list[GateReview], calendars: dict[int, Calendar], *, now=None) -> list[QueueRow]:
    """Queue rows with their badges and whether Decide is offered: no query (the calendars are read
    once for all rows, `qualitygates.selectors.team_calendars`)."""
    rows = []
    for review in reviews:
        left = selectors.gate_time_left(review, calendars[review.owning_team_id], now=now)
        rows.append(QueueRow(
            review=review, badge=time_left_badge(left), overdue=bool(left and left.overdue),
            may_decide=review.state == ReviewState.OPEN and selectors.gate_may_decide(
                user, owning_team_id=review.owning_team_id, promise_owner_id=review.promise.owner_id)))
    return rows
