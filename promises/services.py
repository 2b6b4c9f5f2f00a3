"""Writes on service promises. Views, API, admin, tasks and commands call these and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager, is_member, is_promise_maker
from feedback.services.guidance import guidance_acknowledge
from feedback.services.intake import feedback_record_promise_outcome
from qualitygates import services as gates
from qualitygates.models import GateStep
from qualitygates.selectors import gate_plan_current

from .models import Customer, PromiseCategory, PromiseState, ServicePromise
from .transitions import apply_promise_transition

EDITABLE_STATES = [PromiseState.DRAFT, PromiseState.REWORK]
EDITABLE_FIELDS = (
    "title", "description", "category", "customer", "customer_segment", "origin_department", "channel",
    "metric", "comparison", "target_value", "unit", "due_date", "crm_reference", "deal_value",
)


def _validate(promise: ServicePromise) -> None:
    try:
        promise.full_clean(exclude=["owner", "gate_plan", "status_token", "state"])
    except DjangoValidationError as exc:
        fields = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("The promise is not valid: %(errors)s")
                               % {"errors": "; ".join(f"{k}: {v}" for k, v in fields.items())},
                               code="invalid_promise", fields=fields) from exc


def _lock_promise(promise_id: int) -> ServicePromise:
    pk = as_id(promise_id)
    promise = ServicePromise.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
    if promise is None:
        raise NotFound(_("Promise %(id)s does not exist.") % {"id": promise_id})
    return promise


def _require_owner_or_manager(user, promise: ServicePromise, what: str) -> None:
    if promise.owner_id != user.pk and not is_manager(user):
        raise NotAllowed(_("Only the promise's owner or a manager may %(what)s.") % {"what": what}, code="not_owner")


def promise_create(*, user, title: str, category: PromiseCategory, origin_department: str, channel: str,
                   metric: str, target_value: Decimal, unit: str, due_date: dt.date,
                   customer: Customer | None = None, customer_segment: str = "", description: str = "",
                   comparison: str = "lte", crm_reference: str = "", deal_value: Decimal | None = None,
                   owner=None) -> ServicePromise:
    """Record a promise where it is made. It starts as a draft owned by the maker."""
    if not is_promise_maker(user):
        raise NotAllowed(_("Only sales, marketing, presales or managers record promises."), code="not_promise_maker")
    if owner is not None and owner.pk != user.pk and not is_manager(user):
        raise NotAllowed(_("Only a manager may record a promise on someone else's behalf."), code="not_manager")
    try:
        promise = ServicePromise(
            title=title, description=description, category=category, customer=customer,
            customer_segment=customer_segment, origin_department=origin_department, channel=channel,
            metric=metric, comparison=comparison, target_value=target_value, unit=unit, due_date=due_date,
            owner=owner or user, crm_reference=crm_reference, deal_value=deal_value,
        )
    except (TypeError, ValueError) as exc:  # e.g. a category that is not a category
        raise ValidationFailed(_("The promise is not valid: %(errors)s") % {"errors": exc}, code="invalid_promise") from exc
    _validate(promise)
    with transaction.atomic():
        promise.save()
    return promise


def promise_update(*, promise_id: int, user, data: dict[str, Any]) -> ServicePromise:
    """Edit a draft, or a promise sent back to rework."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("The changes are an object of field names and values."), code="invalid")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
                               code="not_editable", fields={k: _("not editable") for k in unknown})
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("edit it"))
        if promise.state not in EDITABLE_STATES:
            raise IllegalTransition(_("A promise is edited only as a draft or in rework, not %(state)s.")
                                    % {"state": promise.state},
                                    code="not_editable_state")
        category = data.get("category", promise.category)
        if promise.state == PromiseState.REWORK and getattr(category, "pk", category) != promise.category_id:
            raise ValidationFailed(_("The category of a promise in rework is fixed: its gates are a snapshot of "
                                     "that category's plan. Withdraw it and record a new promise instead."),
                                   code="category_fixed", fields={"category": _("fixed after submission")})
        try:
            for name, value in data.items():
                setattr(promise, name, value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(_("The promise is not valid: %(errors)s") % {"errors": exc}, code="invalid_promise") from exc
        _validate(promise)
        promise.save()
    return promise


def promise_submit(*, promise_id: int, user, comment: str = "",
                   acknowledged_guidance_ids: Iterable[int] | None = None) -> ServicePromise:
    """Send a draft into review: snapshot its category's current gate plan and open the first gate.

    When the category has guidance, the submitter must acknowledge all of it (acknowledged_guidance_ids);
    the acknowledgement is recorded on the promise."""
    try:
        with transaction.atomic():
            promise = _lock_promise(promise_id)
            _require_owner_or_manager(user, promise, _("submit it"))
            if promise.state != PromiseState.DRAFT:
                raise IllegalTransition(_("Only a draft can be submitted; this promise is %(state)s.")
                                        % {"state": promise.state})
            plan = gate_plan_current(category_id=promise.category_id)
            if plan is None:
                raise ValidationFailed(_("The category '%(category)s' has no gate plan yet; a manager must set one "
                                         "up before promises in it can be submitted.") % {"category": promise.category},
                                       code="no_gate_plan")
            guidance_acknowledge(promise=promise, user=user, guidance_ids=acknowledged_guidance_ids)
            promise.gate_plan = plan
            apply_promise_transition(promise, "submit", actor=user, comment=comment)
            gates.reviews_instantiate(promise=promise, plan=plan, round_no=1)
            _start_approval(promise, user)
    except ConcurrentTransition as exc:
        raise Conflict(_("The promise was changed at the same moment; reload and try again.")) from exc
    return promise


def _start_approval(promise: ServicePromise, user) -> None:
    if gates.step_start(promise=promise, step=GateStep.APPROVAL, actor=user) is None:
        gates.step_complete(promise=promise, step=GateStep.APPROVAL, actor=user,
                            comment="The plan has no approval gates.")


def promise_resubmit(*, promise_id: int, user, comment: str = "") -> ServicePromise:
    """After rework: a new round through the same gate snapshot, from the first gate."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("resubmit it"))
        if promise.state != PromiseState.REWORK:
            raise IllegalTransition(_("Only a promise in rework can be resubmitted; this one is %(state)s.")
                                    % {"state": promise.state})
        apply_promise_transition(promise, "resubmit", actor=user, comment=comment)
        gates.reviews_copy(promise=promise, source=gates.snapshot_reviews(promise),
                           round_no=promise.rework_rounds + 1)
        _start_approval(promise, user)
    return promise


def promise_withdraw(*, promise_id: int, user, comment: str = "") -> ServicePromise:
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("withdraw it"))
        if not can_proceed(promise.withdraw):
            raise IllegalTransition(_("A promise can be withdrawn only before commitment; this one is %(state)s.")
                                    % {"state": promise.state})
        gates.reviews_cancel_active(promise=promise, actor=user, comment="Promise withdrawn")
        gates.conditions_cancel_open(promise=promise, actor=user, comment="Promise withdrawn")
        apply_promise_transition(promise, "withdraw", actor=user, comment=comment)
    return promise


def promise_commit(*, promise_id: int, user, comment: str = "") -> ServicePromise:
    """The approved promise is now given to the customer."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("commit it"))
        apply_promise_transition(promise, "commit", actor=user, comment=comment)
    return promise


def promise_handover(*, promise_id: int, user, comment: str = "") -> ServicePromise:
    """Hand the committed promise to delivery: its delivery gates run, then delivery starts."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("hand it over to delivery"))
        if promise.state != PromiseState.COMMITTED:
            raise IllegalTransition(_("Only a committed promise is handed over; this one is %(state)s.")
                                    % {"state": promise.state})
        if promise.gate_reviews.filter(step=GateStep.DELIVERY, state__in=["open", "on_hold"]).exists():
            raise IllegalTransition(_("The handover is already under way: a delivery gate is open."),
                                    code="handover_under_way")
        if gates.step_start(promise=promise, step=GateStep.DELIVERY, actor=user) is None:
            gates.step_complete(promise=promise, step=GateStep.DELIVERY, actor=user, comment=comment or
                                "The plan has no delivery gates.")
    return promise


def _parse_decimal(value: Any, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationFailed(_("%(name)s must be a number.") % {"name": name}, code="invalid",
                               fields={name: _("not a number")}) from exc
    if not result.is_finite():
        raise ValidationFailed(_("%(name)s must be a finite number.") % {"name": name}, code="invalid",
                               fields={name: _("not finite")})
    return result


def promise_verify(*, promise_id: int, user, actual_value: Any, reason: str = "") -> ServicePromise:
    """Record what was actually delivered: the promise is fulfilled or broken by its own measure."""
    actual = _parse_decimal(actual_value, "actual_value")
    if not isinstance(reason, str):
        raise ValidationFailed(_("The reason is text."), code="invalid", fields={"reason": _("not text")})
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        gate_team_ids = set(promise.gate_reviews.values_list("owning_team_id", flat=True))
        if not (promise.owner_id == user.pk or is_manager(user) or any(is_member(user, t) for t in gate_team_ids)):
            raise NotAllowed(_("Only the owner, a manager or a team owning one of its gates may verify a promise."),
                             code="not_verifier")
        if promise.state != PromiseState.IN_DELIVERY:
            raise IllegalTransition(_("Only a promise in delivery is verified; this one is %(state)s.")
                                    % {"state": promise.state})
        apply_promise_transition(promise, "verify", actor=user, comment=reason, actual_value=actual,
                                 reason=reason)
        if promise.state == PromiseState.BROKEN and not reason.strip():
            raise ValidationFailed(_("A broken promise needs the reason it was not kept."), code="reason_required",
                                   fields={"reason": _("required when the target was missed")})
        # The outcome of a broken promise is feedback, recorded with the verification itself.
        feedback_record_promise_outcome(promise=promise, actor=user)
        gates.step_start(promise=promise, step=GateStep.CLOSURE, actor=user)
    return promise


def promise_close(*, promise_id: int, user, comment: str = "") -> ServicePromise:
    """Close a verified promise whose plan has no closure gate (otherwise the closure gate closes it)."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("close it"))
        if promise.gate_reviews.filter(step=GateStep.CLOSURE).exclude(state="cancelled").exists():
            raise IllegalTransition(_("This promise closes when its closure gate passes."), code="closure_gate")
        apply_promise_transition(promise, "close", actor=user, comment=comment)
    return promise


def customer_create(*, user, name: str, segment: str = "", email: str = "", language: str = "de",
                    crm_reference: str = "") -> Customer:
    """Promise makers record the customers they make promises to."""
    if not is_promise_maker(user):
        raise NotAllowed("Only sales, marketing, presales or managers record customers.", code="not_promise_maker")
    customer = Customer(name=name, segment=segment, email=email, language=language, crm_reference=crm_reference)
    try:
        customer.full_clean()
    except DjangoValidationError as exc:
        fields = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise ValidationFailed("The customer is not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
                               code="invalid_customer", fields=fields) from exc
    with transaction.atomic():
        customer.save()
    return customer


def promise_delete(*, promise_id: int, user) -> None:
    """A draft was never shown to anyone: its owner may discard it. After that, withdraw it."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("delete it"))
        if promise.state != PromiseState.DRAFT:
            raise IllegalTransition(f"Only a draft can be deleted; this promise is {promise.state}. "
                                    "Withdraw it instead.", code="not_draft")
        promise.delete()
