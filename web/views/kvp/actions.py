"""The KVP board's moves as the page offers them: the url's name, the service, the form it needs,
the button's label."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from feedback.services import improvements as kvp

from .forms import CheckForm, CommentForm, PlanForm, StandardizeForm


@dataclass(frozen=True)
class Move:
    transition: str  # the state machine's name (feedback.models.ImprovementItem)
    slug: str  # the url's
    service: Callable
    form: type
    label: str
    help: str
    comment_required: bool = False
    style: str = "primary"
    # A move that needs nothing but a click is offered on the board's card too.
    one_click: bool = False


MOVES = {m.transition: m for m in [
    Move("accept", "accept", kvp.improvement_accept, CommentForm, _("Accept"),
         _("Worth doing: the item goes to planning."), one_click=True),
    Move("plan", "plan", kvp.improvement_plan, PlanForm, _("Plan"),
         _("Owner, priority, schedule, budget and a measurable target (SMART).")),
    Move("start", "start", kvp.improvement_start, CommentForm, _("Start"),
         _("The work begins."), one_click=True),
    Move("check_effect", "check", kvp.improvement_check, CheckForm, _("Check the effect"),
         _("The product measures each target over its window; add a value measured by hand where it holds no data.")),
    Move("standardize", "standardize", kvp.improvement_standardize, StandardizeForm, _("Standardize"),
         _("Publish the lesson as guidance for presales.")),
    Move("rework", "rework", kvp.improvement_rework, CommentForm, _("Back to work"),
         _("The check fell short: another round."), comment_required=True, style=""),
    Move("reject", "reject", kvp.improvement_reject, CommentForm, _("Reject"),
         _("Not worth doing, with the reasons."), comment_required=True, style="danger"),
    Move("abandon", "abandon", kvp.improvement_abandon, CommentForm, _("Abandon"),
         _("Stop the work, with the reasons."), comment_required=True, style="danger"),
]}
BY_SLUG = {m.slug: m for m in MOVES.values()}


def move_form(move: Move, item, data=None):
    if move.form is CommentForm:
        return CommentForm(data, item=item, comment_required=move.comment_required, prefix=move.slug)
    return move.form(data, item=item, prefix=move.slug)
