"""Writes of the KVP loop: feedback, improvement items, guidance, early warnings, gate escapes.

Views, admin, commands and the promise services call these and nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from core.errors import Conflict, IllegalTransition, NotAllowed, NotFound, ValidationFailed
from core.ids import as_id
from core.roles import is_manager, team_names
from notifications.models import EventKind
from promises.models import Customer, PromiseCategory, PromiseState, ServicePromise
from promises.outcomes import broken_q
from qualitygates.models import GateDefinition
from qualitygates.versioning import gate_plan_revise

from . import conf
from .events import feedback_event_record
from .models import (
    OPEN_IMPROVEMENT_STATES,
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    FeedbackSource,
    Guidance,
    GuidanceAcknowledgement,
    ImprovementItem,
    ImprovementOrigin,
    ImprovementState,
    ImprovementTransition,
    Priority,
    Severity,
)

# --- feedback ------------------------------------------------------------------------------------


# Looked up once: the import validates every row against them.
KINDS, CHANNELS, SEVERITIES = (frozenset(c.values) for c in (FeedbackKind, FeedbackChannel, Severity))


def _text(value: Any) -> str:
    """Caller text, trimmed; anything that is not a string counts as no text (the rule then says so)."""
    return value.strip() if isinstance(value, str) else ""


def _require_staff(user, what: str) -> None:
    if not (user and user.is_authenticated and (user.is_superuser or team_names(user))):
        raise NotAllowed(f"Only members of a team may {what}.", code="not_team_member")


def _require_manager(user, what: str) -> None:
    if not is_manager(user):
        raise NotAllowed(f"Only a manager may {what}.", code="not_manager")


def _parse_score(value: Any, name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[name] = f"{name} must be a whole number from {low} to {high}."
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value() or not low <= number <= high:
        errors[name] = f"{name} must be a whole number from {low} to {high}, not {value!r}."
        return None
    return int(number)


def _parse_when(value: Any, errors: dict[str, str]) -> dt.datetime | None:
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time(12, 0))
    else:
        text = str(value).strip()
        result = parse_datetime(text)
        if result is None:
            day = parse_date(text) if len(text) == 10 else None
            result = dt.datetime.combine(day, dt.time(12, 0)) if day else None
    if result is None:
        errors["received_at"] = f"received_at must be an ISO date or date-time, not {value!r}."
        return None
    if timezone.is_naive(result):
        result = timezone.make_aware(result)
    if result > timezone.now() + dt.timedelta(minutes=5):
        errors["received_at"] = "received_at lies in the future."
        return None
    return result


def _clean_feedback(data: dict[str, Any], *, promise: ServicePromise | None, category: PromiseCategory | None,
                    customer: Customer | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate one feedback's values; lookups were done by the caller. Returns (fields, errors)."""
    errors: dict[str, str] = {}
    kind = _text(data.get("kind"))
    channel = _text(data.get("channel"))
    raw_severity = data.get("severity")
    severity = Severity.MEDIUM if raw_severity in (None, "") else (
        raw_severity.strip() if isinstance(raw_severity, str) else repr(raw_severity))
    if kind not in KINDS:
        errors["kind"] = f"kind must be one of {', '.join(FeedbackKind.values)}, not {kind!r}."
    if channel not in CHANNELS:
        errors["channel"] = f"channel must be one of {', '.join(FeedbackChannel.values)}, not {channel!r}."
    if severity not in SEVERITIES:
        errors["severity"] = f"severity must be one of {', '.join(Severity.values)}, not {severity!r}."
    csat = _parse_score(data.get("csat_score"), "csat_score", 1, 5, errors)
    nps = _parse_score(data.get("nps_score"), "nps_score", 0, 10, errors)
    received_at = _parse_when(data.get("received_at"), errors)
    text = _text(data.get("text"))
    if promise is not None:
        if category is not None and category.pk != promise.category_id:
            errors["category"] = f"Promise {promise.pk} belongs to another category than {category.slug!r}."
        if customer is not None and promise.customer_id and customer.pk != promise.customer_id:
            errors["customer"] = f"Promise {promise.pk} was made to another customer."
        category = promise.category
        customer = customer or promise.customer
    elif category is None and "category" not in errors:
        errors["category"] = "Feedback is linked to a promise or, where none is known, to a category."
    if not text and csat is None and nps is None:
        errors["text"] = "Feedback needs a text or a score."
    external = _text(data.get("external_reference"))
    if len(external) > 100:
        errors["external_reference"] = "external_reference is at most 100 characters."
    return {
        "promise": promise, "category": category, "customer": customer, "kind": kind, "channel": channel,
        "severity": severity, "csat_score": csat, "nps_score": nps, "text": text, "received_at": received_at,
        "external_reference": external,
    }, errors


def feedback_record(*, user, kind: str, channel: str, text: str = "", severity: str = Severity.MEDIUM,
                    promise_id: int | None = None, category_id: int | None = None,
                    customer_id: int | None = None, csat_score: Any = None, nps_score: Any = None,
                    received_at: Any = None, external_reference: str = "") -> Feedback:
    """Record one after-sales experience from any channel."""
    _require_staff(user, "record feedback")
    errors: dict[str, str] = {}
    promise = category = customer = None
    if promise_id is not None:
        promise = ServicePromise.objects.select_related("category", "customer").filter(pk=as_id(promise_id)).first()
        if promise is None:
            errors["promise"] = f"Promise {promise_id!r} does not exist."
    if category_id is not None:
        category = PromiseCategory.objects.filter(pk=as_id(category_id)).first()
        if category is None:
            errors["category"] = f"Category {category_id!r} does not exist."
    if customer_id is not None:
        customer = Customer.objects.filter(pk=as_id(customer_id)).first()
        if customer is None:
            errors["customer"] = f"Customer {customer_id!r} does not exist."
    if kind == FeedbackKind.BROKEN_PROMISE and promise is None and "promise" not in errors:
        errors["promise"] = "Broken-promise feedback names the promise."
    values, more = _clean_feedback(
        {"kind": kind, "channel": channel, "severity": severity, "csat_score": csat_score,
         "nps_score": nps_score, "text": text, "received_at": received_at,
         "external_reference": external_reference},
        promise=promise, category=category, customer=customer)
    errors = {**more, **errors}
    if errors:
        raise ValidationFailed("The feedback is not valid: " + "; ".join(errors.values()), code="invalid_feedback",
                               fields=errors)
    with transaction.atomic():
        item = Feedback.objects.create(**values, source=FeedbackSource.MANUAL, recorded_by=user)
        _feedback_event(item, actor=user)
    return item


def _feedback_event(item: Feedback, *, actor=None) -> None:
    feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, promise=item.promise, actor=actor,
                 payload={"feedback": item.pk, "kind": item.kind, "severity": item.severity,
                          "category": item.category_id})


def feedback_record_promise_outcome(*, promise: ServicePromise, actor) -> Feedback | None:
    """Called by promise_verify in its transaction: a broken promise records its outcome as feedback,
    then the category's early warning and the escapes of the gates it passed are re-checked."""
    if promise.state != PromiseState.BROKEN:
        return None
    item = Feedback.objects.create(
        promise=promise, category_id=promise.category_id, customer_id=promise.customer_id,
        channel=FeedbackChannel.SYSTEM, kind=FeedbackKind.BROKEN_PROMISE, severity=Severity.HIGH,
        text=_("Promise not kept: %(commitment)s, actual %(actual)s.") % {
            "commitment": promise.commitment, "actual": f"{promise.actual_value.normalize():f}"},
        promised_value=promise.commitment, actual_value=promise.actual_value, reason=promise.outcome_reason,
        kept_as_seen=False, source=FeedbackSource.AUTOMATIC, received_at=promise.verified_at or timezone.now(),
        recorded_by=actor,
    )
    _feedback_event(item, actor=actor)
    early_warning_check(category_id=promise.category_id)
    gate_escape_check(definition_ids=list(
        promise.gate_reviews.filter(state="passed", definition__isnull=False)
        .exclude(step="closure").values_list("definition_id", flat=True).distinct()))
    return item


RATEABLE_STATES = [PromiseState.FULFILLED, PromiseState.BROKEN, PromiseState.CLOSED]


def feedback_record_customer_rating(*, status_token: str, kept_as_seen: Any, csat_score: Any,
                                    text: str = "") -> Feedback:
    """The customer's own view of a verified promise, given once on the status page."""
    errors: dict[str, str] = {}
    if isinstance(kept_as_seen, str):
        kept_as_seen = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(
            kept_as_seen.strip().lower())
    if not isinstance(kept_as_seen, bool):
        errors["kept_as_seen"] = "Say whether the promise was kept as you saw it (yes or no)."
    csat = _parse_score(csat_score, "csat_score", 1, 5, errors)
    if csat is None and "csat_score" not in errors:
        errors["csat_score"] = "A rating from 1 to 5 is required."
    text = _text(text)[:2000]
    if errors:
        raise ValidationFailed("The rating is not valid: " + "; ".join(errors.values()), code="invalid_rating",
                               fields=errors)
    try:
        with transaction.atomic():
            promise = (ServicePromise.objects.select_for_update().filter(status_token=status_token).first())
            if promise is None or promise.state == PromiseState.DRAFT:
                raise NotFound("Unknown status link.")
            if promise.state not in RATEABLE_STATES or promise.verified_at is None:
                raise IllegalTransition("A promise is rated once it has been verified.", code="not_verified")
            if Feedback.objects.filter(promise=promise, source=FeedbackSource.CUSTOMER).exists():
                raise Conflict("This promise has already been rated. Thank you.", code="already_rated")
            item = Feedback.objects.create(
                promise=promise, category_id=promise.category_id, customer_id=promise.customer_id,
                channel=FeedbackChannel.STATUS_PAGE,
                kind=FeedbackKind.PRAISE if kept_as_seen and csat >= 4 else (
                    FeedbackKind.FULFILMENT_OUTCOME if kept_as_seen else FeedbackKind.COMPLAINT),
                severity=Severity.LOW if kept_as_seen else Severity.HIGH, csat_score=csat, text=text,
                kept_as_seen=kept_as_seen, source=FeedbackSource.CUSTOMER,
            )
            _feedback_event(item)
    except IntegrityError as exc:
        raise Conflict("This promise has already been rated. Thank you.", code="already_rated") from exc
    return item


# --- CSV import ----------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("kind", "channel", "text")
OPTIONAL_COLUMNS = ("promise", "category", "customer", "severity", "csat", "nps", "received_at",
                    "external_reference")


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            f"The file is not UTF-8 text: undecodable byte 0x{content[exc.start]:02x} on line {line}. "
            "Export it as CSV in UTF-8.", code="bad_encoding", fields={"file": f"line {line}: not UTF-8"},
        ) from exc


def feedback_import_csv(*, user, content: bytes, dry_run: bool = False) -> ImportResult:
    """Import feedback from a CSV export: every row is validated first; all rows are imported or none.

    Columns: kind, channel, text (required); promise (id), category (slug or name), customer
    (CRM reference or exact name), severity, csat, nps, received_at, external_reference.
    Raises ValidationFailed listing every bad row by its line number, and imports nothing then.
    """
    _require_staff(user, "import feedback")
    if len(content) > conf.get("KVP_IMPORT_MAX_BYTES"):
        raise ValidationFailed(f"The file is larger than {conf.get('KVP_IMPORT_MAX_BYTES')} bytes.",
                               code="file_too_large")
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not header or missing:
        raise ValidationFailed(
            "The file lacks the column(s) " + ", ".join(missing or REQUIRED_COLUMNS)
            + "; the header line needs kind, channel, text and promise or category.", code="missing_columns",
            fields={"file": "missing columns: " + ", ".join(missing or REQUIRED_COLUMNS)})
    if "promise" not in header and "category" not in header:
        raise ValidationFailed("The file needs a promise or a category column.", code="missing_columns",
                               fields={"file": "missing columns: promise or category"})
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if None in row:
                rows.append((reader.line_num, {"__extra__": "x"}))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue  # blank lines in exports are common and carry nothing
            rows.append((reader.line_num, values))
            if len(rows) > conf.get("KVP_IMPORT_MAX_ROWS"):
                raise ValidationFailed(f"The file has more than {conf.get('KVP_IMPORT_MAX_ROWS')} rows; split it.",
                                       code="too_many_rows")
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not valid CSV on line {reader.line_num}: {exc}.",
                               code="bad_csv") from exc
    if not rows:
        raise ValidationFailed("The file has no data rows.", code="empty_file")

    # Look everything up in bulk: a fixed number of queries whatever the file's length.
    promise_ids = {int(v["promise"]) for _, v in rows if v.get("promise", "").isdigit()}
    promises = ServicePromise.objects.select_related("category", "customer").in_bulk(promise_ids)
    category_keys = {v.get("category", "") for _, v in rows} - {""}
    categories: dict[str, PromiseCategory] = {}
    for c in PromiseCategory.objects.filter(slug__in=category_keys) | PromiseCategory.objects.filter(
            name__in=category_keys):
        categories[c.slug] = categories[c.name] = c
    customer_keys = {v.get("customer", "") for _, v in rows} - {""}
    customers: dict[str, Customer | None] = {}
    for c in Customer.objects.filter(crm_reference__in=customer_keys) | Customer.objects.filter(
            name__in=customer_keys):
        for key in (c.crm_reference, c.name):
            if key in customer_keys:
                # Two customers answering to one key would make the link a guess.
                customers[key] = None if key in customers and customers[key] != c else c

    result = ImportResult()
    objects: list[Feedback] = []
    for line, values in rows:
        if "__extra__" in values:
            result.errors.append((line, "the row has more fields than the header"))
            continue
        errors: dict[str, str] = {}
        promise = category = customer = None
        if values.get("promise"):
            promise = promises.get(int(values["promise"])) if values["promise"].isdigit() else None
            if promise is None:
                errors["promise"] = f"unknown promise {values['promise']!r}"
        if values.get("category"):
            category = categories.get(values["category"])
            if category is None:
                errors["category"] = f"unknown category {values['category']!r}"
        if values.get("customer"):
            if values["customer"] not in customers:
                errors["customer"] = f"unknown customer {values['customer']!r}"
            elif customers[values["customer"]] is None:
                errors["customer"] = f"customer {values['customer']!r} is ambiguous"
            else:
                customer = customers[values["customer"]]
        cleaned, more = _clean_feedback(
            {"kind": values.get("kind"), "channel": values.get("channel"), "severity": values.get("severity") or None,
             "csat_score": values.get("csat"), "nps_score": values.get("nps"), "text": values.get("text"),
             "received_at": values.get("received_at"), "external_reference": values.get("external_reference")},
            promise=promise, category=category, customer=customer)
        if "category" in errors or "promise" in errors:
            more.pop("category", None)
        errors = {**errors, **more}
        if errors:
            result.errors.append((line, "; ".join(errors.values())))
        else:
            objects.append(Feedback(**cleaned, source=FeedbackSource.IMPORT, recorded_by=user))
    if result.errors:
        raise ValidationFailed(
            f"{len(result.errors)} of {len(rows)} rows are invalid; nothing was imported. "
            + " ".join(f"Line {line}: {reason}." for line, reason in result.errors[:50]),
            code="invalid_rows", fields={f"line {line}": reason for line, reason in result.errors})
    if not dry_run:
        with transaction.atomic():
            Feedback.objects.bulk_create(objects, batch_size=500)
            # One event for the batch: an import is one thing to tell managers about, not thousands.
            feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, actor=user,
                         payload={"import": True, "count": len(objects),
                                  "categories": sorted({o.category_id for o in objects})})
    result.imported = len(objects)
    return result


# --- guidance ------------------------------------------------------------------------------------


def _guidance_publish(*, category_ids: Iterable[int], text: str, actor, improvement=None) -> list[Guidance]:
    text = _text(text)
    raw = list(category_ids)
    ids = sorted({as_id(i) for i in raw} - {None})
    if len(ids) < len(set(map(str, raw))):
        raise ValidationFailed("Category ids are positive whole numbers.", code="invalid",
                               fields={"category_ids": "not ids"})
    if not text:
        raise ValidationFailed("Guidance needs a text.", code="guidance_text_required", fields={"text": "required"})
    if not ids:
        raise ValidationFailed("Guidance is published on at least one category.", code="guidance_category_required")
    found = set(PromiseCategory.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed(f"Unknown category id(s): {', '.join(map(str, unknown))}.", code="unknown_category",
                               fields={"category_ids": "unknown"})
    now = timezone.now()
    published = Guidance.objects.bulk_create([
        Guidance(category_id=i, text=text, improvement=improvement, published_by=actor, published_at=now)
        for i in ids])
    for g in published:
        feedback_event_record(kind=EventKind.GUIDANCE_PUBLISHED, actor=actor,
                     payload={"guidance": g.pk, "category": g.category_id, "text": text,
                              "improvement": improvement.pk if improvement else None})
    return published


def guidance_publish(*, user, category_ids: Iterable[int], text: str) -> list[Guidance]:
    """Publish guidance to presales directly (outside an improvement item)."""
    _require_manager(user, "publish guidance")
    with transaction.atomic():
        return _guidance_publish(category_ids=category_ids, text=text, actor=user)


def guidance_retire(*, user, guidance_id: int) -> Guidance:
    _require_manager(user, "retire guidance")
    with transaction.atomic():
        guidance = Guidance.objects.select_for_update().filter(pk=as_id(guidance_id)).first()
        if guidance is None:
            raise NotFound(f"Guidance {guidance_id} does not exist.")
        if guidance.retired_at is None:
            guidance.retired_at = timezone.now()
            guidance.save(update_fields=["retired_at"])
    return guidance


def guidance_acknowledge(*, promise: ServicePromise, user, guidance_ids: Iterable[int] | None) -> list[int]:
    """Called by promise_submit in its transaction: the submitter must acknowledge all current guidance
    of the promise's category; the acknowledgement is recorded on the promise."""
    current = list(Guidance.objects.filter(category_id=promise.category_id, retired_at__isnull=True)
                   .order_by("id").values_list("id", flat=True))
    given = set()
    for value in guidance_ids or ():
        try:
            given.add(int(value))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"Guidance id {value!r} is not a number.", code="invalid",
                                   fields={"acknowledged_guidance_ids": "not a number"}) from exc
    missing = [g for g in current if g not in given]
    if missing:
        raise ValidationFailed(
            f"The category '{promise.category}' has guidance the submitter must acknowledge before submitting; "
            f"not acknowledged: {', '.join(map(str, missing))}.", code="guidance_not_acknowledged",
            fields={"acknowledged_guidance_ids": f"missing {', '.join(map(str, missing))}"})
    existing = set(GuidanceAcknowledgement.objects.filter(promise=promise).values_list("guidance_id", flat=True))
    GuidanceAcknowledgement.objects.bulk_create([
        GuidanceAcknowledgement(promise=promise, guidance_id=g, user=user) for g in current if g not in existing])
    return current


# --- improvement items ---------------------------------------------------------------------------


def _lock_item(item_id: int) -> ImprovementItem:
    item = ImprovementItem.objects.select_for_update().filter(pk=as_id(item_id)).first()
    if item is None:
        raise NotFound(f"Improvement item {item_id} does not exist.")
    return item


def _apply(item: ImprovementItem, action: str, *, actor, comment: str = "", **kwargs) -> ImprovementItem:
    before = item.state
    try:
        getattr(item, action)(**kwargs)
    except TransitionNotAllowed as exc:
        raise IllegalTransition(f"An improvement item that is {before} cannot {action.replace('_', ' ')}.",
                                code="illegal_transition") from exc
    item.save()
    ImprovementTransition.objects.create(item=item, action=action, from_state=before, to_state=item.state,
                                         actor=actor, comment=comment)
    feedback_event_record(kind=EventKind.IMPROVEMENT_CHANGED, actor=actor,
                 payload={"improvement": item.pk, "title": item.title, "from": before, "to": item.state,
                          "comment": comment})
    return item


def _transition(item_id: int, action: str, *, user, comment: str = "", allow_owner: bool = False,
                comment_required: bool = False, prepare=None, **kwargs) -> ImprovementItem:
    comment = _text(comment)
    if comment_required and not comment:
        raise ValidationFailed(f"To {action} an improvement item needs a comment giving the reasons.",
                               code="comment_required", fields={"comment": "required"})
    try:
        with transaction.atomic():
            item = _lock_item(item_id)
            if not (is_manager(user) or (allow_owner and item.owner_id and item.owner_id == user.pk)):
                who = "a manager or the item's owner" if allow_owner else "a manager"
                raise NotAllowed(f"Only {who} may {action.replace('_', ' ')} an improvement item.",
                                 code="not_allowed")
            if prepare is not None:
                kwargs.update(prepare(item))
            return _apply(item, action, actor=user, comment=comment, **kwargs)
    except ConcurrentTransition as exc:
        raise Conflict("The improvement item was changed at the same moment; reload and try again.") from exc


def improvement_propose(*, user, title: str, description: str = "", category_ids: Iterable[int] = (),
                        gate_definition_ids: Iterable[int] = (), feedback_ids: Iterable[int] = ()) -> ImprovementItem:
    """Anyone in a team may propose an improvement; it links the feedback that motivated it."""
    _require_staff(user, "propose an improvement")
    title = _text(title)
    if not title or len(title) > 200:
        raise ValidationFailed("An improvement needs a title of 1 to 200 characters.", code="invalid",
                               fields={"title": "1 to 200 characters"})
    with transaction.atomic():
        item = ImprovementItem.objects.create(title=title, description=description, proposed_by=user)
        _link(item, category_ids=category_ids, gate_definition_ids=gate_definition_ids, feedback_ids=feedback_ids)
        _proposed(item, actor=user)
    return item


def _link(item: ImprovementItem, *, category_ids=(), gate_definition_ids=(), feedback_ids=()) -> None:
    errors = {}
    for name, model, ids, relation in (
        ("category_ids", PromiseCategory, set(category_ids), item.categories),
        ("gate_definition_ids", GateDefinition, set(gate_definition_ids), item.gate_definitions),
        ("feedback_ids", Feedback, set(feedback_ids), item.feedback),
    ):
        if not ids:
            continue
        if any(as_id(i) is None for i in ids):
            errors[name] = "ids are positive whole numbers"
            continue
        ids = {as_id(i) for i in ids}
        found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if found != ids:
            errors[name] = f"unknown id(s): {', '.join(map(str, sorted(ids - found, key=str)))}"
        else:
            relation.add(*found)
    if errors:
        raise ValidationFailed("The improvement links unknown records: " + "; ".join(
            f"{k} {v}" for k, v in errors.items()), code="unknown_link", fields=errors)


def _proposed(item: ImprovementItem, *, actor, kind=EventKind.IMPROVEMENT_PROPOSED, extra=None) -> None:
    ImprovementTransition.objects.create(item=item, action="propose", from_state="", to_state=item.state,
                                         actor=actor, comment=item.description[:500])
    feedback_event_record(kind=kind, actor=actor,
                 payload={"improvement": item.pk, "title": item.title, "origin": item.origin, **(extra or {})})


def improvement_accept(*, item_id: int, user, comment: str = "") -> ImprovementItem:
    return _transition(item_id, "accept", user=user, comment=comment)


def improvement_reject(*, item_id: int, user, comment: str) -> ImprovementItem:
    return _transition(item_id, "reject", user=user, comment=comment, comment_required=True)


def _parse_decimal(value: Any, name: str, errors: dict[str, str], *, minimum: Decimal | None = None):
    if value is None or value == "":
        errors[name] = "required"
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        errors[name] = f"{value!r} is not a number"
        return None
    if minimum is not None and result < minimum:
        errors[name] = f"must be at least {minimum}"
        return None
    return result


def _parse_day(value: Any, name: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    day = parse_date(str(value)) if value else None
    if day is None:
        errors[name] = "required (a date)" if not value else f"{value!r} is not a date"
    return day


def improvement_plan(*, item_id: int, user, owner: Any, priority: str, start_date: Any, due_date: Any,
                     budget: Any, target_metric: str, baseline_value: Any, target_value: Any,
                     target_deadline: Any, comment: str = "") -> ImprovementItem:
    """Plan: the item gets its SMART plan — owner, priority, schedule, budget and a measurable target."""
    errors: dict[str, str] = {}
    User = get_user_model()
    owner_id = owner.pk if isinstance(owner, User) else owner
    owner_obj = User.objects.filter(pk=as_id(owner_id), is_active=True).first() if as_id(owner_id) else None
    if owner_obj is None:
        errors["owner"] = "required (an active user)"
    if priority not in Priority.values:
        errors["priority"] = f"one of {', '.join(Priority.values)}"
    start = _parse_day(start_date, "start_date", errors)
    due = _parse_day(due_date, "due_date", errors)
    deadline = _parse_day(target_deadline, "target_deadline", errors)
    money = _parse_decimal(budget, "budget", errors, minimum=Decimal(0))
    baseline = _parse_decimal(baseline_value, "baseline_value", errors)
    target = _parse_decimal(target_value, "target_value", errors)
    metric = _text(target_metric)
    if not metric:
        errors["target_metric"] = "required (what is measured)"
    if start and due and due < start:
        errors["due_date"] = "must not lie before the start"
    if start and deadline and deadline < start:
        errors["target_deadline"] = "must not lie before the start"
    if baseline is not None and target is not None and baseline == target:
        errors["target_value"] = "must differ from the baseline: a target is a change"
    if errors:
        raise ValidationFailed("A planned improvement needs a SMART plan: " + "; ".join(
            f"{k} {v}" for k, v in errors.items()), code="plan_incomplete", fields=errors)
    return _transition(item_id, "plan", user=user, comment=comment, owner=owner_obj, priority=priority,
                       start_date=start, due_date=due, budget=money, target_metric=metric,
                       baseline_value=baseline, target_value=target, target_deadline=deadline)


def improvement_start(*, item_id: int, user, comment: str = "") -> ImprovementItem:
    return _transition(item_id, "start", user=user, comment=comment, allow_owner=True)


def improvement_check(*, item_id: int, user, measured_value: Any, note: str = "") -> ImprovementItem:
    """Check: record the measured value of the target metric."""
    errors: dict[str, str] = {}
    measured = _parse_decimal(measured_value, "measured_value", errors)
    if errors:
        raise ValidationFailed("Checking records the measured value: " + errors["measured_value"],
                               code="measured_value_required", fields=errors)
    return _transition(item_id, "check_effect", user=user, comment=note, allow_owner=True,
                       measured_value=measured, note=note, now=timezone.now())


def improvement_rework(*, item_id: int, user, comment: str) -> ImprovementItem:
    """Act on a check that fell short: back to in progress for another round."""
    return _transition(item_id, "rework", user=user, comment=comment, allow_owner=True, comment_required=True)


def improvement_abandon(*, item_id: int, user, comment: str) -> ImprovementItem:
    return _transition(item_id, "abandon", user=user, comment=comment, comment_required=True)


def improvement_standardize(*, item_id: int, user, guidance_text: str = "",
                            guidance_category_ids: Iterable[int] | None = None,
                            criteria_changes: Iterable[dict[str, Any]] = (), comment: str = "") -> ImprovementItem:
    """Standardize: publish the lesson as guidance on categories and/or changed gate criteria.

    Criterion changes become a new version of each affected gate plan (qualitygates.versioning);
    promises submitted afterwards use it, running ones keep their snapshot.
    """
    changes = list(criteria_changes)
    guidance_text = _text(guidance_text)
    if not guidance_text and not changes:
        raise ValidationFailed("Standardizing publishes the lesson: give guidance text, a criterion change, or both.",
                               code="lesson_required")

    def publish(item: ImprovementItem) -> dict:
        if item.state != ImprovementState.CHECKING:
            return {}  # the FSM refuses it with the right message
        if guidance_text:
            ids = list(guidance_category_ids) if guidance_category_ids is not None else list(
                item.categories.values_list("pk", flat=True))
            _guidance_publish(category_ids=ids, text=guidance_text, actor=user, improvement=item)
            item.categories.add(*ids)
        by_plan: dict[int, list[dict[str, Any]]] = {}
        definitions = GateDefinition.objects.select_related("plan").in_bulk(
            {as_id(c.get("definition_id")) for c in changes} - {None})
        for i, change in enumerate(changes):
            definition = definitions.get(as_id(change.get("definition_id")))
            if definition is None:
                raise ValidationFailed(f"Criterion change {i}: gate definition {change.get('definition_id')!r} "
                                       "does not exist.", code="unknown_definition")
            by_plan.setdefault(definition.plan_id, []).append(change)
        for plan_id, plan_changes in by_plan.items():
            new_plan = gate_plan_revise(plan_id=plan_id, criteria_changes=plan_changes,
                                        change_note=f"Improvement #{item.pk}: {item.title}")
            item.categories.add(new_plan.category_id)
            item.gate_definitions.add(*[as_id(c["definition_id"]) for c in plan_changes])
        return {}

    return _transition(item_id, "standardize", user=user, comment=comment, prepare=publish, now=timezone.now())


# --- automatic proposals ----------------------------------------------------------------------


def early_warning_check(*, category_id: int) -> ImprovementItem | None:
    """Propose an improvement when a category's break rate over its last N verified promises passes
    the threshold — once: not again while that proposal is open. Managers are told via the outbox."""
    window = conf.get("KVP_EARLY_WARNING_WINDOW")
    threshold = Decimal(str(conf.get("KVP_EARLY_WARNING_THRESHOLD")))
    # Serialise checks of one category so two breaks at once cannot both propose.
    category = PromiseCategory.objects.select_for_update().get(pk=category_id)
    if ImprovementItem.objects.filter(origin=ImprovementOrigin.EARLY_WARNING, origin_category=category,
                                      state__in=OPEN_IMPROVEMENT_STATES).exists():
        return None
    last = (ServicePromise.objects.filter(category=category, verified_at__isnull=False, actual_value__isnull=False)
            .annotate(is_broken=Case(When(broken_q(), then=Value(1)), default=Value(0), output_field=IntegerField()))
            .order_by("-verified_at", "-id")[:window])
    figures = last.aggregate(n=Count("pk"), broken=Sum("is_broken"))
    n, broken = figures["n"] or 0, figures["broken"] or 0
    if n < window or Decimal(broken) / n <= threshold:
        return None
    rate = Decimal(broken) / n
    item = ImprovementItem.objects.create(
        title=_("Early warning: %(category)s broke %(broken)d of its last %(n)d promises") % {
            "category": category.name, "broken": broken, "n": n},
        description=_("The break rate %(rate)s%% passed the threshold of %(threshold)s%%. Find the cause and "
                      "improve the promises or the gates of this category.") % {
            "rate": f"{rate * 100:.0f}", "threshold": f"{threshold * 100:.0f}"},
        origin=ImprovementOrigin.EARLY_WARNING, origin_category=category,
    )
    item.categories.add(category)
    item.feedback.add(*Feedback.objects.filter(
        kind=FeedbackKind.BROKEN_PROMISE, promise__in=last.values("pk")).values_list(
        "pk", flat=True))
    _proposed(item, actor=None, kind=EventKind.EARLY_WARNING,
              extra={"category": category.pk, "broken": broken, "window": n, "break_rate": f"{rate:.3f}",
                     "threshold": f"{threshold:.3f}"})
    return item


def gate_escape_check(*, definition_ids: Iterable[int]) -> list[ImprovementItem]:
    """Flag gates whose escape rate passes the threshold: each proposes an improvement of its criteria
    (once while one is open) and managers are told via the outbox."""
    from .selectors import gate_escapes

    ids = sorted(set(definition_ids))
    if not ids:
        return []
    proposed = []
    for row in gate_escapes(definition_ids=ids):
        if not row["flagged"]:
            continue
        definition = GateDefinition.objects.select_for_update().select_related("plan").get(pk=row["definition_id"])
        if ImprovementItem.objects.filter(origin=ImprovementOrigin.GATE_ESCAPE, origin_definition=definition,
                                          state__in=OPEN_IMPROVEMENT_STATES).exists():
            continue
        item = ImprovementItem.objects.create(
            title=_("Gate without teeth: %(gate)s lets %(escaped)d of %(passed)d promises through that broke") % {
                "gate": definition.name, "escaped": row["escaped"], "passed": row["passed"]},
            description=_("Sharpen the criteria of the gate '%(gate)s' (plan %(plan)s). Top reasons: %(reasons)s")
            % {"gate": definition.name, "plan": str(definition.plan),
               "reasons": "; ".join(r["reason"] for r in row["top_reasons"]) or "-"},
            origin=ImprovementOrigin.GATE_ESCAPE, origin_definition=definition,
        )
        item.gate_definitions.add(definition)
        item.categories.add(definition.plan.category_id)
        _proposed(item, actor=None, kind=EventKind.GATE_ESCAPE_FLAGGED,
                  extra={"definition": definition.pk, "gate": definition.name, "passed": row["passed"],
                         "escaped": row["escaped"], "escape_rate": f"{row['escape_rate']:.3f}"})
        proposed.append(item)
    return proposed

