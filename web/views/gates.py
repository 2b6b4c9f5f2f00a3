"""The gate queue of my teams and the decision page. Thin: the selectors read (scoped), the engine
decides (`qualitygates.services.gate_decide`), and the one rule of who may decide
(`qualitygates.selectors.gate_decider_refusal`) both offers Decide and refuses it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from qualitygates import selectors, services
from qualitygates.models import GateReview, ReviewState
from web.gate_forms import ConditionFormSet, DecideForm
from web.gate_rows import queue_rows, time_left_badge

PAGE_SIZE = 25
HELD_LIMIT = 50


def _team_filter(request, teams) -> int | None:
    wanted = request.GET.get("team", "")
    return next((team.pk for team in teams if str(team.pk) == wanted), None)


@login_required
def gate_queue(request):
    user, now = request.user, timezone.now()
    teams = selectors.gate_queue_teams(user=user)
    team_id = _team_filter(request, teams)
    page = Paginator(selectors.gate_queue(user=user, team_id=team_id), PAGE_SIZE).get_page(request.GET.get("page"))
    held_qs = selectors.gate_queue(user=user, team_id=team_id, state=ReviewState.ON_HOLD)
    held = list(held_qs[:HELD_LIMIT])
    waiting = list(page.object_list)
    teams_shown = {r.owning_team_id for r in waiting + held}
    calendars = selectors.team_calendars(teams_shown) if teams_shown else {}
    return render(request, "web/gates/queue.html", {
        "teams": teams, "team_id": team_id, "page": page,
        "rows": queue_rows(user, waiting, calendars, now=now),
        "held_rows": queue_rows(user, held, calendars, now=now),
        "held_more": held_qs.count() - len(held) if len(held) == HELD_LIMIT else 0,
        "overdue_count": selectors.gate_overdue_count(user=user, team_id=team_id, now=now),
    })


def _forbidden(request, review: GateReview, refusal: NotAllowed):
    return render(request, "web/gates/forbidden.html", {"review": review, "reason": refusal.message}, status=403)


def _not_open(request, review: GateReview, *, stale: bool):
    """A gate decided meanwhile (or cancelled): say what happened, plainly, and where to go."""
    return render(request, "web/gates/not_open.html", {"review": review, "stale": stale},
                  status=409 if stale else 200)


@login_required
def gate_decide(request, review_id: int):
    user = request.user
    review = selectors.gate_review_for_decision(user=user, review_id=review_id)
    if review is None:
        raise Http404(_("Gate review %(id)s does not exist.") % {"id": review_id})
    refusal = selectors.gate_decider_refusal(user, review=review, promise_owner_id=review.promise.owner_id)
    if refusal is not None:
        return _forbidden(request, review, refusal)
    if review.state != ReviewState.OPEN:
        return _not_open(request, review, stale=request.method == "POST")
    calendar = selectors.team_calendars([review.owning_team_id])[review.owning_team_id]
    owners = list(selectors.gate_condition_owner_choices(review=review))
    data = request.POST if request.method == "POST" else None
    form = DecideForm(data, review=review)
    # A client that sends no condition rows at all (a script, an old page) means none.
    condition_data = data if data is not None and "conditions-TOTAL_FORMS" in data else None
    conditions = ConditionFormSet(condition_data, prefix="conditions",
                                  form_kwargs={"owners": owners, "calendar": calendar})
    if data is not None and form.is_valid() and (condition_data is None or conditions.is_valid()):
        decision = form.decision_value()
        try:
            services.gate_decide(review_id=review.pk, user=user, decision=decision,
                                 comment=form.cleaned_data["comment"], checks=form.check_inputs(),
                                 conditions=conditions.condition_inputs())
        except NotAllowed as error:
            return _forbidden(request, review, error)
        except (Conflict, IllegalTransition) as error:
            fresh = selectors.gate_review_for_decision(user=user, review_id=review.pk)
            if fresh is not None and fresh.state != ReviewState.OPEN:
                return _not_open(request, fresh, stale=True)
            form.add_error(None, str(error.message))
        except DomainError as error:
            form.add_decide_error(error, conditions)
        else:
            messages.success(request, _("Gate “%(gate)s” of “%(promise)s” decided: %(decision)s.")
                             % {"gate": review.display_name, "promise": review.promise.title,
                                "decision": decision.label})
            return redirect("web:gate-queue")
    left = selectors.gate_time_left(review, calendar)
    evidence = review.evidence or {}
    return render(request, "web/gates/decide.html", {
        "review": review, "promise": review.promise, "form": form, "conditions": conditions,
        "earlier": selectors.gate_decisions_of_promise(user=user, review=review),
        "evidence": evidence, "badge": time_left_badge(left),
        "evidence_share": Decimal(evidence["met_share"]) * 100 if evidence.get("met_share") is not None else None,
    }, status=400 if data is not None else 200)
