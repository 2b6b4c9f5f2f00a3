"""The KVP board: improvement items as columns by state, an item's page with its linked feedback,
SMART targets, measured effect and trail, and its moves as buttons with the forms they need."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from feedback.models import ImprovementState
from feedback.selectors.improvement_actions import improvement_actions
from feedback.selectors.improvements import improvement_detail, improvement_effects, improvement_list
from feedback.services.access import require_team_member
from feedback.services.improvements import improvement_propose
from web.forms import form_add_domain_error

from .actions import BY_SLUG, MOVES, move_form
from .forms import ProposeForm

S = ImprovementState
BOARD_COLUMNS = [S.PROPOSED, S.ACCEPTED, S.PLANNED, S.IN_PROGRESS, S.CHECKING, S.STANDARDIZED]
CLOSED = [S.REJECTED, S.ABANDONED]
# A long-finished column shows its latest cards; the rest are counted.
MAX_CARDS = 30
# What a target's measurement rests on (feedback.selectors.targets), by the key it is stored under.
COUNT_LABELS = {"verified": gettext_lazy("verified"), "kept": gettext_lazy("kept"), "broken": gettext_lazy("broken"),
                "passed": gettext_lazy("passed gates"), "responses": gettext_lazy("responses"),
                "feedback": gettext_lazy("feedback")}
PRIORITY_PILL = {"critical": "danger", "high": "warn", "medium": "", "low": "neutral"}


def _may_propose(user) -> bool:
    try:
        require_team_member(user, "")
    except NotAllowed:
        return False
    return True


@login_required
def kvp_board(request, propose_form=None, status: int = 200):
    items = list(improvement_list(user=request.user))
    by_state: dict[str, list] = {state: [] for state in [*BOARD_COLUMNS, *CLOSED]}
    for item in items:
        moves = [MOVES[name] for name in improvement_actions(item=item, user=request.user)]
        item.actions = [move for move in moves if move.one_click]
        # A move that needs a form is done on the item's page: the card links there.
        item.form_moves = [move for move in moves if not move.one_click and not move.comment_required]
        item.priority_pill = PRIORITY_PILL.get(item.priority, "")
        by_state[item.state].append(item)
    columns = [{"state": state, "label": state.label, "items": by_state[state][:MAX_CARDS],
                "more": max(0, len(by_state[state]) - MAX_CARDS)} for state in BOARD_COLUMNS]
    closed = [item for state in CLOSED for item in by_state[state]][:MAX_CARDS]
    may_propose = _may_propose(request.user)
    return render(request, "web/kvp/board.html", {
        "columns": columns, "closed": closed, "closed_count": sum(len(by_state[s]) for s in CLOSED),
        "total": len(items), "may_propose": may_propose,
        "propose_form": propose_form or (ProposeForm(prefix="propose") if may_propose else None)}, status=status)


@require_POST
@login_required
def kvp_propose(request):
    form = ProposeForm(request.POST, prefix="propose")
    if not form.is_valid():
        return kvp_board(request, propose_form=form, status=400)
    try:
        item = improvement_propose(user=request.user, **form.service_kwargs())
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return kvp_board(request, propose_form=form, status=400)
    messages.success(request, _("Proposed: %(title)s.") % {"title": item.title})
    return redirect(f"{reverse('web:kvp-board')}#item-{item.pk}")


def _item_or_404(request, item_id: int):
    item = improvement_detail(user=request.user, item_id=item_id)
    if item is None:
        raise Http404(_("Improvement item %(id)s does not exist.") % {"id": item_id})
    return item


def _render_item(request, item, *, bound=None, status: int = 200):
    allowed = improvement_actions(item=item, user=request.user)
    forms = []
    for name in allowed:
        move = MOVES[name]
        form = bound if bound is not None and bound.prefix == move.slug else move_form(move, item)
        forms.append({"move": move, "form": form, "open": form is bound})
    effect = next((e for e in improvement_effects() if e["item"].pk == item.pk), None) \
        if item.state == S.STANDARDIZED else None
    for target in item.targets.all():
        target.counts = [(COUNT_LABELS.get(key, key), n) for key, n in (target.product_counts or {}).items()]
    labels = dict(S.choices)
    trail = [{"at": row.at, "from": labels.get(row.from_state, row.from_state), "comment": row.comment,
              "to": labels.get(row.to_state, row.to_state), "actor": (row.actor.get_full_name() or row.actor.get_username()) if row.actor else ""}
             for row in item.trail.all()]
    return render(request, "web/kvp/item.html", {
        "item": item, "moves": forms, "effect": effect, "trail": trail,
        "states": BOARD_COLUMNS, "state_index": BOARD_COLUMNS.index(item.state) if item.state in BOARD_COLUMNS else -1,
        "priority_pill": PRIORITY_PILL.get(item.priority, ""),
    }, status=status)


@login_required
def kvp_item(request, item_id: int):
    return _render_item(request, _item_or_404(request, item_id))


def _show_on_form(form, error: DomainError, prefix: str) -> None:
    """The plan service names a target's fields "targets[0].<field>" and says per field what is wrong:
    that says it next to the form's field, without the API's field names."""
    if not prefix or not error.fields:
        form_add_domain_error(form, error)
        return
    for name, text in error.fields.items():
        field = name.removeprefix(prefix)
        if field in form.fields:
            form.add_error(field, capfirst(str(text)))
        else:
            form.add_error(None, error.message)


@require_POST
@login_required
def kvp_move(request, item_id: int, move: str):
    item = _item_or_404(request, item_id)
    step = BY_SLUG.get(move)
    if step is None:
        raise Http404(_("Unknown move."))
    form = move_form(step, item, request.POST)
    if not form.is_valid():
        return _render_item(request, item, bound=form, status=400)
    try:
        step.service(item_id=item.pk, user=request.user, **form.service_kwargs())
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        _show_on_form(form, exc, getattr(step.form, "service_field_prefix", ""))
        return _render_item(request, _item_or_404(request, item_id), bound=form, status=400)
    except DomainError as exc:  # the state moved on meanwhile, or someone else moved it at the same moment
        messages.error(request, exc.message)
        return redirect("web:kvp-item", item_id=item.pk)
    messages.success(request, _("%(title)s: %(move)s done.") % {"title": item.title, "move": step.label})
    back = request.POST.get("back")
    if back == "board":
        return redirect(f"{reverse('web:kvp-board')}#item-{item.pk}")
    return redirect("web:kvp-item", item_id=item.pk)
