"""Writes on service promises. Views, API, admin, tasks and commands call these and nothing else.

Callers hand typed values (the API's serializers and the admin's forms parse the input once);
these functions enforce the rules: who may, in which state, what the promise must satisfy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from core.errors import CommonErrorCode, Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager, is_member, is_promise_maker
from feedback.services.guidance import guidance_acknowledge
from feedback.services.intake import feedback_record_promise_outcome
from qualitygates import services as gates
from qualitygates.conditions import conditions_cancel_open
from qualitygates.models import GateStep
from qualitygates.reviews import reviews_cancel_active, reviews_copy, reviews_instantiate, snapshot_reviews
from qualitygates.selectors import gate_plan_current

from .error_codes import PromiseErrorCode
from .models import Customer, Metric, PromiseCategory, PromiseState, ServicePromise
from .status_link import ISSUED, REISSUED, REVOKED, status_link_set, was_committed
from .transitions import apply_promise_transition

EDITABLE_STATES = [PromiseState.DRAFT, PromiseState.REWORK]


class Unchanged(Enum):
    """A field of PromiseChanges left as it is (None is a value: no customer, no deal value)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True)
class PromiseChanges:
    """The fields a maker may change on a draft or a promise in rework; the rest stay UNCHANGED."""

    title: str | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    category: PromiseCategory | Unchanged = UNCHANGED
    customer: Customer | None | Unchanged = UNCHANGED
    customer_segment: str | Unchanged = UNCHANGED
    origin_department: str | Unchanged = UNCHANGED
    channel: str | Unchanged = UNCHANGED
    metric: Metric | Unchanged = UNCHANGED
    comparison: str | Unchanged = UNCHANGED
    target_value: Decimal | Unchanged = UNCHANGED
    # Not stored: a unit a caller states is checked against the metric's (see _check_commitment).
    unit: str | Unchanged = UNCHANGED
    due_date: dt.date | Unchanged = UNCHANGED
    crm_reference: str | Unchanged = UNCHANGED
    deal_value: Decimal | None | Unchanged = UNCHANGED

    def changed(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNCHANGED}


# The one list of editable fields: the API's write serializers and the admin's form use it.
EDITABLE_FIELDS = tuple(f.name for f in fields(PromiseChanges))


def _validate(promise: ServicePromise) -> None:
    try:
        promise.full_clean(exclude=["owner", "gate_plan", "status_token", "state"])
    except DjangoValidationError as exc:
        fields_ = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("The promise is not valid: %(errors)s")
                               % {"errors": "; ".join(f"{k}: {v}" for k, v in fields_.items())},
                               code=PromiseErrorCode.INVALID_PROMISE, fields=fields_) from exc


def _check_commitment(promise: ServicePromise, *, unit: str = "", metric_chosen: bool = True) -> None:
    """The commitment reads in the catalogue's terms: a metric of the promise's category, compared the
    way the metric improves, in the metric's unit. An inactive metric is not chosen anew."""
    metric = promise.metric
    if metric_chosen and not metric.is_active:
        raise ValidationFailed(_("The metric '%(metric)s' is retired from the catalogue; choose an active one.")
                               % {"metric": metric.display_name}, code=PromiseErrorCode.METRIC_INACTIVE,
                               fields={"metric": _("retired")})
    if not metric.categories.filter(pk=promise.category_id).exists():
        raise ValidationFailed(_("The metric '%(metric)s' is not in the catalogue of the category '%(category)s'.")
                               % {"metric": metric.display_name, "category": promise.category.display_name},
                               code=PromiseErrorCode.METRIC_NOT_IN_CATEGORY,
                               fields={"metric": _("not a metric of this category")})
    if not metric.allows(promise.comparison):
        raise ValidationFailed(
            _("For '%(metric)s' %(direction)s: the comparison is ≤ or = where lower is better, ≥ or = where "
              "higher is better.") % {"metric": metric.display_name, "direction": metric.get_direction_display()},
            code=PromiseErrorCode.COMPARISON_AGAINST_DIRECTION,
            fields={"comparison": _("contradicts the metric's direction")})
    if unit and unit != metric.unit:
        raise ValidationFailed(_("The metric '%(metric)s' is measured in %(unit)s, not in %(given)s.")
                               % {"metric": metric.display_name, "unit": metric.unit, "given": unit},
                               code=PromiseErrorCode.UNIT_NOT_METRICS,
                               fields={"unit": _("not the metric's unit")})


def _lock_promise(promise_id: int) -> ServicePromise:
    pk = as_id(promise_id)
    promise = ServicePromise.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
    if promise is None:
        raise NotFound(_("Promise %(id)s does not exist.") % {"id": promise_id})
    return promise


def _require_owner_or_manager(user, promise: ServicePromise, what: str) -> None:
    if promise.owner_id != user.pk and not is_manager(user):
        raise NotAllowed(_("Only the promise's owner or a manager may %(what)s.") % {"what": what},
                         code=PromiseErrorCode.NOT_OWNER)


def promise_create(*, user, title: str, category: PromiseCategory, origin_department: str, channel: str,
                   metric: Metric, target_value: Decimal, due_date: dt.date, unit: str = "",
                   customer: Customer | None = None, customer_segment: str = "", description: str = "",
                   comparison: str = "lte", crm_reference: str = "", deal_value: Decimal | None = None,
                   owner=None, now: dt.datetime | None = None) -> ServicePromise:
    """Record a promise where it is made. It starts as a draft owned by the maker."""
    if not is_promise_maker(user):
        raise NotAllowed(_("Only sales, marketing, presales or managers record promises."),
                         code=PromiseErrorCode.NOT_PROMISE_MAKER)
    if owner is not None and owner.pk != user.pk and not is_manager(user):
        raise NotAllowed(_("Only a manager may record a promise on someone else's behalf."),
                         code=CommonErrorCode.NOT_MANAGER)
    now = now or timezone.now()
    promise = ServicePromise(
        title=title, description=description, category=category, customer=customer,
        customer_segment=customer_segment, origin_department=origin_department, channel=channel,
        metric=metric, comparison=comparison, target_value=target_value, due_date=due_date,
        owner=owner or user, crm_reference=crm_reference, deal_value=deal_value,
        created_at=now, customer_visible_at=now,
    )
    _validate(promise)
    _check_commitment(promise, unit=unit)
    with transaction.atomic():
        promise.save()
    return promise


def promise_update(*, promise_id: int, user, changes: PromiseChanges,
                   now: dt.datetime | None = None) -> ServicePromise:
    """Edit a draft, or a promise sent back to rework. (`now` is accepted like every write's clock;
    an edit stamps nothing but the row's own update time.)"""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("edit it"))
        if promise.state not in EDITABLE_STATES:
            raise IllegalTransition(_("A promise is edited only as a draft or in rework, not %(state)s.")
                                    % {"state": promise.state},
                                    code=PromiseErrorCode.NOT_EDITABLE_STATE)
        if (promise.state == PromiseState.REWORK and changes.category is not UNCHANGED
                and changes.category.pk != promise.category_id):
            raise ValidationFailed(_("The category of a promise in rework is fixed: its gates are a snapshot of "
                                     "that category's plan. Withdraw it and record a new promise instead."),
                                   code=PromiseErrorCode.CATEGORY_FIXED,
                                   fields={"category": _("fixed after submission")})
        changed = changes.changed()
        unit = changed.pop("unit", "")
        metric_chosen = "metric" in changed and changed["metric"].pk != promise.metric_id
        for name, value in changed.items():
            setattr(promise, name, value)
        _validate(promise)
        _check_commitment(promise, unit=unit, metric_chosen=metric_chosen)
        promise.save()
    return promise


def promise_submit(*, promise_id: int, user, comment: str = "", acknowledged_guidance_ids: Iterable[int] = (),
                   now: dt.datetime | None = None) -> ServicePromise:
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
                                       code=PromiseErrorCode.NO_GATE_PLAN)
            guidance_acknowledge(promise=promise, user=user, guidance_ids=acknowledged_guidance_ids)
            promise.gate_plan = plan
            now = now or timezone.now()
            apply_promise_transition(promise, "submit", actor=user, comment=comment, now=now)
            reviews_instantiate(promise=promise, plan=plan, round_no=1)
            _start_approval(promise, user, now=now)
    except ConcurrentTransition as exc:
        raise Conflict(_("The promise was changed at the same moment; reload and try again.")) from exc
    return promise


def _start_approval(promise: ServicePromise, user, *, now: dt.datetime) -> None:
    if gates.step_start(promise=promise, step=GateStep.APPROVAL, actor=user, now=now) is None:
        gates.step_complete(promise=promise, step=GateStep.APPROVAL, actor=user, now=now,
                            comment=_("The plan has no approval gates."))


def promise_resubmit(*, promise_id: int, user, comment: str = "", now: dt.datetime | None = None) -> ServicePromise:
    """After rework: a new round through the same gate snapshot, from the first gate."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("resubmit it"))
        if promise.state != PromiseState.REWORK:
            raise IllegalTransition(_("Only a promise in rework can be resubmitted; this one is %(state)s.")
                                    % {"state": promise.state})
        now = now or timezone.now()
        apply_promise_transition(promise, "resubmit", actor=user, comment=comment, now=now)
        reviews_copy(promise=promise, source=snapshot_reviews(promise), round_no=promise.rework_rounds + 1)
        _start_approval(promise, user, now=now)
    return promise


def promise_withdraw(*, promise_id: int, user, comment: str = "", now: dt.datetime | None = None) -> ServicePromise:
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("withdraw it"))
        if not can_proceed(promise.withdraw):
            raise IllegalTransition(_("A promise can be withdrawn only before commitment; this one is %(state)s.")
                                    % {"state": promise.state})
        now = now or timezone.now()
        reviews_cancel_active(promise=promise, actor=user, comment=_("Promise withdrawn"), now=now)
        conditions_cancel_open(promise=promise, actor=user, comment=_("Promise withdrawn"), now=now)
        apply_promise_transition(promise, "withdraw", actor=user, comment=comment, now=now)
    return promise


def promise_commit(*, promise_id: int, user, comment: str = "", now: dt.datetime | None = None) -> ServicePromise:
    """The approved promise is now given to the customer, and with it the link to its status page
    (a promise committed again after rework keeps the link it has)."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("commit it"))
        now = now or timezone.now()
        apply_promise_transition(promise, "commit", actor=user, comment=comment, now=now)
        if not promise.status_token:
            status_link_set(promise, ISSUED, actor=user, now=now)
    return promise


def promise_status_link_revoke(*, promise_id: int, user, comment: str = "",
                               now: dt.datetime | None = None) -> ServicePromise:
    """The customer's link stops working at once: its page answers like a link that never existed."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("revoke its status link"))
        if not promise.status_token:
            raise IllegalTransition(_("This promise has no status link to revoke."),
                                    code=PromiseErrorCode.NO_STATUS_LINK)
        status_link_set(promise, REVOKED, actor=user, comment=comment, now=now or timezone.now())
    return promise


def promise_status_link_reissue(*, promise_id: int, user, comment: str = "",
                                now: dt.datetime | None = None) -> ServicePromise:
    """A new link for the customer; the previous one, if any, stops working."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("reissue its status link"))
        if not was_committed(promise):
            raise IllegalTransition(_("A status link is issued once the promise is committed to the customer."),
                                    code=PromiseErrorCode.NOT_COMMITTED)
        status_link_set(promise, REISSUED, actor=user, comment=comment, now=now or timezone.now())
    return promise


def promise_handover(*, promise_id: int, user, comment: str = "", now: dt.datetime | None = None) -> ServicePromise:
    """Hand the committed promise to delivery: its delivery gates run, then delivery starts."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("hand it over to delivery"))
        if promise.state != PromiseState.COMMITTED:
            raise IllegalTransition(_("Only a committed promise is handed over; this one is %(state)s.")
                                    % {"state": promise.state})
        if promise.gate_reviews.filter(step=GateStep.DELIVERY, state__in=["open", "on_hold"]).exists():
            raise IllegalTransition(_("The handover is already under way: a delivery gate is open."),
                                    code=PromiseErrorCode.HANDOVER_UNDER_WAY)
        now = now or timezone.now()
        if gates.step_start(promise=promise, step=GateStep.DELIVERY, actor=user, now=now) is None:
            gates.step_complete(promise=promise, step=GateStep.DELIVERY, actor=user, now=now, comment=comment or
                                _("The plan has no delivery gates."))
    return promise


def promise_verify(*, promise_id: int, user, actual_value: Decimal, reason: str = "",
                   now: dt.datetime | None = None) -> ServicePromise:
    """Record what was actually delivered: the promise is fulfilled or broken by its own measure."""
    if not actual_value.is_finite():
        raise ValidationFailed(_("The actual value must be a finite number."),
                               fields={"actual_value": _("not finite")})
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        gate_team_ids = set(promise.gate_reviews.values_list("owning_team_id", flat=True))
        if not (promise.owner_id == user.pk or is_manager(user) or any(is_member(user, t) for t in gate_team_ids)):
            raise NotAllowed(_("Only the owner, a manager or a team owning one of its gates may verify a promise."),
                             code=PromiseErrorCode.NOT_VERIFIER)
        if promise.state != PromiseState.IN_DELIVERY:
            raise IllegalTransition(_("Only a promise in delivery is verified; this one is %(state)s.")
                                    % {"state": promise.state})
        now = now or timezone.now()
        apply_promise_transition(promise, "verify", actor=user, comment=reason, now=now, actual_value=actual_value,
                                 reason=reason, at=now)
        if promise.state == PromiseState.BROKEN and not reason.strip():
            raise ValidationFailed(_("A broken promise needs the reason it was not kept."),
                                   code=PromiseErrorCode.REASON_REQUIRED,
                                   fields={"reason": _("required when the target was missed")})
        # The outcome of a broken promise is feedback, recorded with the verification itself.
        feedback_record_promise_outcome(promise=promise, actor=user, now=now)
        gates.step_start(promise=promise, step=GateStep.CLOSURE, actor=user, now=now)
    return promise


def promise_close(*, promise_id: int, user, comment: str = "", now: dt.datetime | None = None) -> ServicePromise:
    """Close a verified promise whose plan has no closure gate (otherwise the closure gate closes it)."""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("close it"))
        if promise.gate_reviews.filter(step=GateStep.CLOSURE).exclude(state="cancelled").exists():
            raise IllegalTransition(_("This promise closes when its closure gate passes."),
                                    code=PromiseErrorCode.CLOSURE_GATE)
        apply_promise_transition(promise, "close", actor=user, comment=comment, now=now)
    return promise


def promise_delete(*, promise_id: int, user, now: dt.datetime | None = None) -> None:
    """A draft was never shown to anyone: its owner may discard it. After that, withdraw it.
    (`now` is accepted like every write's clock; a deletion stamps nothing.)"""
    with transaction.atomic():
        promise = _lock_promise(promise_id)
        _require_owner_or_manager(user, promise, _("delete it"))
        if promise.state != PromiseState.DRAFT:
            raise IllegalTransition(_("Only a draft can be deleted; this promise is %(state)s. Withdraw it instead.")
                                    % {"state": promise.state}, code=PromiseErrorCode.NOT_DRAFT)
        promise.delete()


def customer_create(*, user, name: str, segment: str = "", email: str = "", language: str = "de",
                    crm_reference: str = "", now: dt.datetime | None = None) -> Customer:
    """Promise makers record the customers they make promises to."""
    if not is_promise_maker(user):
        raise NotAllowed(_("Only sales, marketing, presales or managers record customers."),
                         code=PromiseErrorCode.NOT_PROMISE_MAKER)
    customer = Customer(name=name, segment=segment, email=email, language=language, crm_reference=crm_reference,
                        created_at=now or timezone.now())
    try:
        customer.full_clean()
    except DjangoValidationError as exc:
        fields_ = {k: " ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise ValidationFailed(_("The customer is not valid: %(errors)s")
                               % {"errors": "; ".join(f"{k}: {v}" for k, v in fields_.items())},
                               code=PromiseErrorCode.INVALID_CUSTOMER, fields=fields_) from exc
    with transaction.atomic():
        customer.save()
    return customer
