"""Guidance back to presales: published on categories (directly or by standardizing an improvement),
retired, and acknowledged by whoever submits a promise in such a category."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed
from notifications.models import EventKind
from promises.models import PromiseCategory, ServicePromise

from ..error_codes import FeedbackErrorCode
from ..events import feedback_event_record
from ..models import Guidance, GuidanceAcknowledgement, ImprovementItem
from .access import require_manager


def guidance_publish_on(*, category_ids: Iterable[int], text: str, actor: AbstractBaseUser | None,
                        now: dt.datetime, improvement: ImprovementItem | None = None) -> list[Guidance]:
    """Publish in the caller's transaction; the caller has checked who may (a manager, or standardizing)."""
    text = text.strip()
    ids = sorted(set(category_ids))
    if not text:
        raise ValidationFailed(_("Guidance needs a text."), code=FeedbackErrorCode.GUIDANCE_TEXT_REQUIRED,
                               fields={"text": _("required")})
    if not ids:
        raise ValidationFailed(_("Guidance is published on at least one category."),
                               code=FeedbackErrorCode.GUIDANCE_CATEGORY_REQUIRED)
    found = set(PromiseCategory.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed(_("Unknown category id(s): %(ids)s.") % {"ids": ", ".join(map(str, unknown))},
                               code=FeedbackErrorCode.UNKNOWN_CATEGORY, fields={"category_ids": _("unknown")})
    published = Guidance.objects.bulk_create([
        Guidance(category_id=i, text=text, improvement=improvement, published_by=actor, published_at=now)
        for i in ids])
    for g in published:
        feedback_event_record(kind=EventKind.GUIDANCE_PUBLISHED, actor=actor, now=now,
                              payload={"guidance": g.pk, "category": g.category_id, "text": text,
                                       "improvement": improvement.pk if improvement else None})
    return published


def guidance_publish(*, user: AbstractBaseUser, category_ids: Iterable[int], text: str,
                     now: dt.datetime | None = None) -> list[Guidance]:
    """Publish guidance to presales directly (outside an improvement item)."""
    require_manager(user, _("Only a manager may publish guidance."))
    with transaction.atomic():
        return guidance_publish_on(category_ids=category_ids, text=text, actor=user, now=now or timezone.now())


def _current_for_update(guidance_id: int) -> Guidance:
    guidance = Guidance.objects.select_for_update().filter(pk=guidance_id).first()
    if guidance is None:
        raise NotFound(_("Guidance %(id)s does not exist.") % {"id": guidance_id})
    if guidance.retired_at is not None:
        raise Conflict(_("This guidance was already retired on %(at)s.") % {"at": guidance.retired_at.date()},
                       code=FeedbackErrorCode.GUIDANCE_RETIRED)
    return guidance


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Retiring guidance needs the reason why."), code=FeedbackErrorCode.REASON_REQUIRED,
                               fields={"reason": _("required")})
    return reason


def _retire(guidance: Guidance, *, user: AbstractBaseUser, reason: str, now: dt.datetime,
            superseded_by: Guidance | None = None) -> Guidance:
    guidance.retired_at, guidance.retired_by, guidance.retire_reason = now, user, reason
    guidance.superseded_by = superseded_by
    guidance.save(update_fields=["retired_at", "retired_by", "retire_reason", "superseded_by"])
    return guidance


def guidance_retire(*, user: AbstractBaseUser, guidance_id: int, reason: str,
                    now: dt.datetime | None = None) -> Guidance:
    """Retire guidance that no longer holds: presales stop seeing it; who and why are recorded."""
    require_manager(user, _("Only a manager may retire guidance."))
    reason = _require_reason(reason)
    with transaction.atomic():
        return _retire(_current_for_update(guidance_id), user=user, reason=reason, now=now or timezone.now())


def guidance_supersede(*, user: AbstractBaseUser, guidance_id: int, text: str, reason: str,
                       now: dt.datetime | None = None) -> Guidance:
    """Replace guidance by a new text on the same category: the old one is retired, pointing at the new."""
    require_manager(user, _("Only a manager may supersede guidance."))
    reason = _require_reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        old = _current_for_update(guidance_id)
        new, = guidance_publish_on(category_ids=[old.category_id], text=text, actor=user, now=now,
                                   improvement=old.improvement)
        _retire(old, user=user, reason=reason, now=now, superseded_by=new)
    return new


def guidance_acknowledge(*, promise: ServicePromise, user: AbstractBaseUser, guidance_ids: Iterable[int] | None,
                         now: dt.datetime | None = None) -> list[int]:
    """Called by promise_submit in its transaction: the submitter must acknowledge all current guidance
    of the promise's category; the acknowledgement is recorded on the promise."""
    current = dict(Guidance.objects.filter(category_id=promise.category_id, retired_at__isnull=True)
                   .order_by("id").values_list("id", "text"))
    given = set(guidance_ids or ())
    missing = [(g, text) for g, text in current.items() if g not in given]
    if missing:
        # The person reads the texts; the ids stay in `fields` for the client that has to send them.
        texts = " ".join(f"«{text}»" for _g, text in missing)
        raise ValidationFailed(
            _("The category '%(category)s' has guidance the submitter must acknowledge before submitting; "
              "not acknowledged: %(texts)s") % {"category": promise.category, "texts": texts},
            code=FeedbackErrorCode.GUIDANCE_NOT_ACKNOWLEDGED,
            fields={"acknowledged_guidance_ids": _("missing: %(texts)s") % {
                "texts": texts}})
    existing = set(GuidanceAcknowledgement.objects.filter(promise=promise).values_list("guidance_id", flat=True))
    GuidanceAcknowledgement.objects.bulk_create([
        GuidanceAcknowledgement(promise=promise, guidance_id=g, user=user, at=now or timezone.now())
        for g in current if g not in existing])
    return list(current)
