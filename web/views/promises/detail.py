"""/promises/<id>/: the promise page — its commitment, progress, the actions its reader may take
(each a POST calling one service) and one timeline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from core import roles
from core.errors import DomainError, NotAllowed, NotFound
from feedback.selectors.guidance import guidance_current
from promises import services
from promises.models import PromiseState
from promises.selectors import promise_is_visible, promise_page, status_link_visible
from promises.status_link import status_url
from qualitygates.models import ConditionState, GateStep, ReviewState
from qualitygates.selectors import gate_may_decide
from qualitygates.services import gate_condition_meet
from web.forms import form_add_domain_error

from .edit import can_edit
from .forms import CommentForm, ConditionMeetForm, SubmitForm, VerifyForm
from .labels import state_tone, team_label
from .timeline import next_review, promise_progress, promise_timeline, rework_reason

S = PromiseState


def _comment_service(service):
    def run(*, promise_id, user, data):
        service(promise_id=promise_id, user=user, comment=data["comment"])
    return run


def _submit(*, promise_id, user, data):
    services.promise_submit(promise_id=promise_id, user=user, comment=data["comment"],
                            acknowledged_guidance_ids=data["acknowledged_guidance_ids"])


def _verify(*, promise_id, user, data):
    services.promise_verify(promise_id=promise_id, user=user, actual_value=data["actual_value"],
                            reason=data["reason"].strip())


def _delete(*, promise_id, user, data):
    services.promise_delete(promise_id=promise_id, user=user)


def _condition_meet(*, promise_id, user, data):
    gate_condition_meet(condition_id=data["condition"], user=user, note=data["note"])


# name → (form, service call, button label, success message)
ACTIONS = {
    "submit": (SubmitForm, _submit, gettext_lazy("Submit for review"), gettext_lazy("Submitted: the first gate is open.")),
    "resubmit": (CommentForm, _comment_service(services.promise_resubmit), gettext_lazy("Resubmit"),
                 gettext_lazy("Resubmitted: the gates run again.")),
    "commit": (CommentForm, _comment_service(services.promise_commit), gettext_lazy("Commit to the customer"),
               gettext_lazy("Committed to the customer.")),
    "handover": (CommentForm, _comment_service(services.promise_handover), gettext_lazy("Hand over to delivery"),
                 gettext_lazy("Handed over to delivery.")),
    "verify": (VerifyForm, _verify, gettext_lazy("Record the delivered value"), gettext_lazy("Verified.")),
    "close": (CommentForm, _comment_service(services.promise_close), gettext_lazy("Close"), gettext_lazy("Closed.")),
    "withdraw": (CommentForm, _comment_service(services.promise_withdraw), gettext_lazy("Withdraw"),
                 gettext_lazy("Withdrawn.")),
    "delete": (CommentForm, _delete, gettext_lazy("Delete the draft"), gettext_lazy("The draft was deleted.")),
    "link-reissue": (CommentForm, _comment_service(services.promise_status_link_reissue),
                     gettext_lazy("Issue a new status link"), gettext_lazy("A new status link was issued.")),
    "link-revoke": (CommentForm, _comment_service(services.promise_status_link_revoke),
                    gettext_lazy("Revoke the status link"), gettext_lazy("The status link was revoked.")),
    "condition-meet": (ConditionMeetForm, _condition_meet, gettext_lazy("Mark met"),
                       gettext_lazy("The condition is marked met.")),
}


def available_actions(user, promise) -> list[str]:
    """The actions the reader may take on the promise now: the services' own rules, read off the
    prefetched promise (the services check them again when the button is pressed)."""
    owner_or_manager = promise.owner_id == user.pk or roles.is_manager(user)
    reviews = [r for r in promise.gate_reviews.all() if r.state != ReviewState.CANCELLED]
    actions = []
    if owner_or_manager:
        by_state = {S.DRAFT: ["submit"], S.REWORK: ["resubmit"], S.APPROVED: ["commit"]}
        actions += by_state.get(promise.state, [])
        if promise.state == S.COMMITTED and not any(
                r.step == GateStep.DELIVERY and r.state in (ReviewState.OPEN, ReviewState.ON_HOLD) for r in reviews):
            actions.append("handover")
    gate_member = any(roles.is_member(user, r.owning_team_id) for r in promise.gate_reviews.all())
    if promise.state == S.IN_DELIVERY and (owner_or_manager or gate_member):
        actions.append("verify")
    if owner_or_manager:
        if promise.state in (S.FULFILLED, S.BROKEN) and not any(r.step == GateStep.CLOSURE for r in reviews):
            actions.append("close")
        if can_proceed(promise.withdraw):
            actions.append("withdraw")
        if promise.state == S.DRAFT:
            actions.append("delete")
    return actions


def link_actions(user, promise) -> list[str]:
    if not (promise.owner_id == user.pk or roles.is_manager(user)):
        return []
    committed_once = promise.status_token or any(r.action == "commit" for r in promise.trail.all())
    return (["link-revoke"] if promise.status_token else []) + (["link-reissue"] if committed_once else [])


def meetable_conditions(user, promise) -> list:
    return [c for r in promise.gate_reviews.all() for c in r.conditions.all()
            if c.state == ConditionState.OPEN
            and (c.owner_id == user.pk or roles.is_member(user, r.owning_team_id) or roles.is_manager(user))]


def _page(request, promise, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    names = available_actions(user, promise)
    forms = [(name, bound.get(name) or ACTIONS[name][0](), ACTIONS[name][2]) for name in names]
    review = next_review(promise)
    return render(request, "web/promises/detail.html", {
        "promise": promise,
        "tone": state_tone(promise.state),
        "progress": promise_progress(promise),
        "next_review": review,
        "next_team": team_label(review.owning_team.name) if review else "",
        "can_decide": bool(review and review.state == ReviewState.OPEN
                           and gate_may_decide(user, owning_team_id=review.owning_team_id,
                                               promise_owner_id=promise.owner_id)),
        "rework_reason": rework_reason(promise) if promise.state == S.REWORK else "",
        "action_forms": forms,
        "can_edit": can_edit(user, promise),
        "guidance": list(guidance_current(category_id=promise.category_id)) if "submit" in names else [],
        "link_actions": [(name, ACTIONS[name][2]) for name in link_actions(user, promise)],
        "status_url": status_url(promise) if promise.status_token and status_link_visible(user=user, promise=promise)
        else "",
        "conditions": meetable_conditions(user, promise),
        "condition_form": bound.get("condition-meet"),
        "timeline": promise_timeline(promise),
        "verified": promise.state in (S.FULFILLED, S.BROKEN, S.CLOSED) and promise.actual_value is not None,
    }, status=status)


@login_required
def promise_detail(request, promise_id: int):
    promise = promise_page(user=request.user, promise_id=promise_id)
    if promise is None:
        raise Http404(_("Promise %(id)s does not exist.") % {"id": promise_id})
    return _page(request, promise)


@login_required
@require_POST
def promise_action(request, promise_id: int, action: str):
    """One action of the promise page. Outside the reader's scope: 404; not the reader's to take: 403;
    refused by the rules: the page again, the reason next to the field it names."""
    if action not in ACTIONS or not promise_is_visible(user=request.user, promise_id=promise_id):
        raise Http404(_("Promise %(id)s does not exist.") % {"id": promise_id})
    form_class, run, _label, done = ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            run(promise_id=promise_id, user=request.user, data=form.cleaned_data)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, done)
            if action == "delete":
                return redirect("web:promise-list")
            return redirect("web:promise-detail", promise_id=promise_id)
    promise = promise_page(user=request.user, promise_id=promise_id)
    if promise is None:
        raise Http404(_("Promise %(id)s does not exist.") % {"id": promise_id})
    if action not in available_actions(request.user, promise) + link_actions(request.user, promise) + (
            ["condition-meet"] if meetable_conditions(request.user, promise) else []):
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or _("This action is not open now."))
        return redirect("web:promise-detail", promise_id=promise_id)
    if form.non_field_errors() and action in link_actions(request.user, promise):
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()))
    return _page(request, promise, bound={action: form}, status=400)
