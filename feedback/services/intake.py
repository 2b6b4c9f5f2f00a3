"""Feedback comes in: recorded by staff from any channel, a broken promise's outcome recorded with its
verification, and the customer's own rating from the status page."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from notifications.models import EventKind
from promises.models import Customer, PromiseCategory, PromiseState, ServicePromise
from qualitygates.models import GateStep, ReviewState

from ..error_codes import FeedbackErrorCode
from ..events import feedback_event_record
from ..models import Feedback, FeedbackChannel, FeedbackKind, FeedbackSource, Severity
from ..selectors.intake import promise_is_rateable
from . import signals
from .access import require_team_member
from .summaries import feedback_summaries_record

# An import's clock and a caller's may differ by a little; a feedback from further ahead is a mistake.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def feedback_problems(*, kind: FeedbackKind, promise: ServicePromise | None, category: PromiseCategory | None,
                      customer: Customer | None, csat_score: int | None, nps_score: int | None, text: str,
                      received_at: dt.datetime | None, now: dt.datetime) -> dict[str, str]:
    """The rules one feedback must meet, per field (empty when it meets them). The CSV import checks
    each row with this too."""
    problems: dict[str, str] = {}
    if promise is not None:
        if category is not None and category.pk != promise.category_id:
            problems["category"] = _("Promise %(promise)s belongs to another category than '%(category)s'.") % {
                "promise": promise.pk, "category": category.slug}
        if customer is not None and promise.customer_id and customer.pk != promise.customer_id:
            problems["customer"] = _("Promise %(promise)s was made to another customer.") % {"promise": promise.pk}
    elif kind == FeedbackKind.BROKEN_PROMISE:
        problems["promise"] = _("Broken-promise feedback names the promise.")
    elif category is None:
        problems["category"] = _("Feedback is linked to a promise or, where none is known, to a category.")
    if csat_score is not None and not 1 <= csat_score <= 5:
        problems["csat_score"] = _("The CSAT score is a whole number from 1 to 5.")
    if nps_score is not None and not 0 <= nps_score <= 10:
        problems["nps_score"] = _("The NPS score is a whole number from 0 to 10.")
    if not text.strip() and csat_score is None and nps_score is None:
        problems["text"] = _("Feedback needs a text or a score.")
    if received_at is not None and received_at > now + FUTURE_TOLERANCE:
        problems["received_at"] = _("The feedback cannot have been received in the future.")
    return problems


def feedback_event(item: Feedback, *, actor: AbstractBaseUser | None = None) -> None:
    feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, promise=item.promise, actor=actor,
                          payload={"feedback": item.pk, "kind": item.kind, "severity": item.severity,
                                   "category": item.category_id})


def feedback_record(*, user: AbstractBaseUser, kind: FeedbackKind, channel: FeedbackChannel,
                    severity: Severity = Severity.MEDIUM, promise: ServicePromise | None = None,
                    category: PromiseCategory | None = None, customer: Customer | None = None,
                    csat_score: int | None = None, nps_score: int | None = None, text: str = "",
                    received_at: dt.datetime | None = None, external_reference: str = "",
                    now: dt.datetime | None = None) -> Feedback:
    """Record one after-sales experience from any channel. A promise brings its category and customer."""
    now = now or timezone.now()
    require_team_member(user, _("Only members of a team may record feedback."))
    problems = feedback_problems(kind=kind, promise=promise, category=category, customer=customer,
                                 csat_score=csat_score, nps_score=nps_score, text=text, received_at=received_at,
                                 now=now)
    if problems:
        raise ValidationFailed(_("The feedback is not valid: %(problems)s") % {"problems": " ".join(problems.values())},
                               code=FeedbackErrorCode.INVALID_FEEDBACK, fields=problems)
    if promise is not None:
        category, customer = promise.category, customer or promise.customer
    with transaction.atomic():
        item = Feedback.objects.create(
            created_at=now, promise=promise, category=category, customer=customer, kind=kind, channel=channel, severity=severity,
            csat_score=csat_score, nps_score=nps_score, text=text.strip(), received_at=received_at or now,
            external_reference=external_reference, source=FeedbackSource.MANUAL, recorded_by=user)
        feedback_summaries_record([item])
        feedback_event(item, actor=user)
    return item


def feedback_record_promise_outcome(*, promise: ServicePromise, actor: AbstractBaseUser | None,
                                    now: dt.datetime | None = None) -> Feedback | None:
    """Called by promise_verify in its transaction: a broken promise records its outcome as feedback,
    then the category's early warning and the escapes of the gates it passed are re-checked."""
    if promise.state != PromiseState.BROKEN:
        return None
    now = now or timezone.now()
    item = Feedback.objects.create(
        created_at=now, promise=promise, category_id=promise.category_id, customer_id=promise.customer_id,
        channel=FeedbackChannel.SYSTEM, kind=FeedbackKind.BROKEN_PROMISE, severity=Severity.HIGH,
        text=_("Promise not kept: %(commitment)s, actual %(actual)s.") % {
            "commitment": promise.commitment, "actual": f"{promise.actual_value.normalize():f}"},
        promised_value=promise.commitment, actual_value=promise.actual_value, reason=promise.outcome_reason,
        kept_as_seen=False, source=FeedbackSource.AUTOMATIC, received_at=promise.verified_at or now,
        recorded_by=actor,
    )
    feedback_summaries_record([item])
    feedback_event(item, actor=actor)
    signals.early_warning_check(category_id=promise.category_id, now=now)
    signals.gate_escape_check(now=now, definition_ids=list(
        promise.gate_reviews.filter(state=ReviewState.PASSED, definition__isnull=False)
        .exclude(step=GateStep.CLOSURE).values_list("definition_id", flat=True).distinct()))
    return item


def feedback_record_customer_rating(*, status_token: str, kept_as_seen: bool, csat_score: int, text: str = "",
                                    now: dt.datetime | None = None) -> Feedback:
    """The customer's own view of a verified promise, given once on the status page."""
    now = now or timezone.now()
    if not 1 <= csat_score <= 5:
        raise ValidationFailed(_("A rating is a whole number from 1 to 5."), code=FeedbackErrorCode.INVALID_FEEDBACK,
                               fields={"csat_score": _("from 1 to 5")})
    already = _("This promise has already been rated. Thank you.")
    try:
        with transaction.atomic():
            promise = ServicePromise.objects.select_for_update().filter(status_token=status_token).first()
            if promise is None or promise.state == PromiseState.DRAFT:
                raise NotFound(_("Unknown status link."))
            if not promise_is_rateable(promise):
                raise IllegalTransition(_("A promise is rated once it has been verified."),
                                        code=FeedbackErrorCode.NOT_VERIFIED)
            if Feedback.objects.filter(promise=promise, source=FeedbackSource.CUSTOMER).exists():
                raise Conflict(already, code=FeedbackErrorCode.ALREADY_RATED)
            if kept_as_seen:
                kind = FeedbackKind.PRAISE if csat_score >= 4 else FeedbackKind.FULFILMENT_OUTCOME
            else:
                kind = FeedbackKind.COMPLAINT
            item = Feedback.objects.create(
                created_at=now, promise=promise, category_id=promise.category_id, customer_id=promise.customer_id,
                channel=FeedbackChannel.STATUS_PAGE, kind=kind, severity=Severity.LOW if kept_as_seen else Severity.HIGH,
                csat_score=csat_score, text=text.strip(), kept_as_seen=kept_as_seen, source=FeedbackSource.CUSTOMER,
                received_at=now,
            )
            feedback_summaries_record([item])
            feedback_event(item)
    except IntegrityError as exc:
        raise Conflict(already, code=FeedbackErrorCode.ALREADY_RATED) from exc
    return item
