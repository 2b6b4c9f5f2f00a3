"""Feedback imported from a CSV export of a ticket system or survey tool: all rows or none.

Each row is validated by the serializer the API uses for one feedback (feedback.serializers), then by
the same rules feedback_record enforces (intake.feedback_problems); look-ups are made in bulk first,
so the number of queries does not grow with the file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ValidationFailed
from core.ids import as_id
from notifications.models import EventKind
from promises.models import Customer, PromiseCategory, ServicePromise

from .. import conf
from ..error_codes import FeedbackErrorCode
from ..events import feedback_event_record
from ..models import Feedback, FeedbackSource
from ..serializers import FeedbackLinks, FeedbackWriteSerializer
from .access import require_team_member
from .intake import feedback_problems
from .summaries import feedback_summaries_record

REQUIRED_COLUMNS = ("kind", "channel", "text")
OPTIONAL_COLUMNS = ("promise", "category", "customer", "severity", "csat", "nps", "received_at",
                    "external_reference")
# A column and the serializer field it fills, where the names differ.
FIELD_OF_COLUMN = {"csat": "csat_score", "nps": "nps_score"}
COLUMN_OF_FIELD = {v: k for k, v in FIELD_OF_COLUMN.items()}
EXTRA_FIELDS = "__extra__"


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Keys:
    """What the file's category and customer columns name: slug or name, CRM reference or name."""

    categories: dict[str, PromiseCategory] = field(default_factory=dict)
    # None where two customers answer to one key: the link would be a guess.
    customers: dict[str, Customer | None] = field(default_factory=dict)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            _("The file is not UTF-8 text: undecodable byte 0x%(byte)02x on line %(line)d. Export it as CSV in "
              "UTF-8.") % {"byte": content[exc.start], "line": line},
            code=FeedbackErrorCode.BAD_ENCODING, fields={"file": _("line %(line)d: not UTF-8") % {"line": line}},
        ) from exc


def _read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; refuses a file without the needed columns."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = ", ".join(c for c in REQUIRED_COLUMNS if c not in header) or ", ".join(REQUIRED_COLUMNS)
    if not header or any(c not in header for c in REQUIRED_COLUMNS):
        raise ValidationFailed(
            _("The file lacks the column(s) %(columns)s; the header line needs kind, channel, text and promise "
              "or category.") % {"columns": missing}, code=FeedbackErrorCode.MISSING_COLUMNS,
            fields={"file": _("missing columns: %(columns)s") % {"columns": missing}})
    if "promise" not in header and "category" not in header:
        raise ValidationFailed(_("The file needs a promise or a category column."),
                               code=FeedbackErrorCode.MISSING_COLUMNS,
                               fields={"file": _("missing columns: promise or category")})
    reader.fieldnames = header
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if None in row:
                rows.append((reader.line_num, {EXTRA_FIELDS: "x"}))
                continue
            values = {k: (v or "").strip() for k, v in row.items() if k in known}
            if not any(values.values()):
                continue  # blank lines in exports are common and carry nothing
            rows.append((reader.line_num, values))
            if len(rows) > conf.get("KVP_IMPORT_MAX_ROWS"):
                raise ValidationFailed(_("The file has more than %(n)d rows; split it.") % {
                    "n": conf.get("KVP_IMPORT_MAX_ROWS")}, code=FeedbackErrorCode.TOO_MANY_ROWS)
    except csv.Error as exc:
        raise ValidationFailed(_("The file is not valid CSV on line %(line)d: %(error)s.") % {
            "line": reader.line_num, "error": exc}, code=FeedbackErrorCode.BAD_CSV) from exc
    if not rows:
        raise ValidationFailed(_("The file has no data rows."), code=FeedbackErrorCode.EMPTY_FILE)
    return rows


def _look_up(rows: list[tuple[int, dict[str, str]]]) -> tuple[_Keys, FeedbackLinks]:
    """Everything the rows name, in three queries whatever the file's length."""
    keys = _Keys()
    category_keys = {v.get("category", "") for _, v in rows} - {""}
    for c in PromiseCategory.objects.filter(slug__in=category_keys) | PromiseCategory.objects.filter(
            name__in=category_keys):
        keys.categories[c.slug] = keys.categories[c.name] = c
    customer_keys = {v.get("customer", "") for _, v in rows} - {""}
    for c in Customer.objects.filter(crm_reference__in=customer_keys) | Customer.objects.filter(
            name__in=customer_keys):
        for key in (c.crm_reference, c.name):
            if key in customer_keys:
                keys.customers[key] = None if key in keys.customers and keys.customers[key] != c else c
    promise_ids = {as_id(v.get("promise")) for _, v in rows} - {None}
    links = FeedbackLinks(
        promises=ServicePromise.objects.select_related("category", "customer").in_bulk(promise_ids)
        if promise_ids else {},
        categories={c.pk: c for c in keys.categories.values()},
        customers={c.pk: c for c in keys.customers.values() if c is not None},
    )
    return keys, links


def _row_data(values: dict[str, str], keys: _Keys) -> tuple[dict[str, str | int], dict[str, str]]:
    """The row as the serializer's input (empty cells left out), and what its keys failed to name."""
    data: dict[str, str | int] = {FIELD_OF_COLUMN.get(k, k): v for k, v in values.items() if v}
    unknown: dict[str, str] = {}
    if "category" in data:
        category = keys.categories.get(values["category"])
        if category is None:
            unknown["category"] = _("unknown category '%(key)s'") % {"key": values["category"]}
        else:
            data["category"] = category.pk
    if "customer" in data:
        if values["customer"] not in keys.customers:
            unknown["customer"] = _("unknown customer '%(key)s'") % {"key": values["customer"]}
        elif keys.customers[values["customer"]] is None:
            unknown["customer"] = _("customer '%(key)s' is ambiguous") % {"key": values["customer"]}
        else:
            data["customer"] = keys.customers[values["customer"]].pk
    for name in unknown:
        data.pop(name)
    return data, unknown


def _row_feedback(values: dict[str, str], *, keys: _Keys, links: FeedbackLinks, user: AbstractBaseUser,
                  now: dt.datetime) -> tuple[Feedback | None, dict[str, str]]:
    data, problems = _row_data(values, keys)
    serializer = FeedbackWriteSerializer(data=data, context={"links": links})
    if not serializer.is_valid():
        for name, messages in serializer.errors.items():
            problems.setdefault(name, " ".join(str(m) for m in messages))
        return None, problems
    fields = serializer.validated_data
    if problems:
        return None, problems
    problems = feedback_problems(
        kind=fields["kind"], promise=fields["promise"], category=fields["category"], customer=fields["customer"],
        csat_score=fields["csat_score"], nps_score=fields["nps_score"], text=fields["text"],
        received_at=fields["received_at"], now=now)
    if problems:
        return None, problems
    promise = fields["promise"]
    return Feedback(
        created_at=now, promise=promise, category=promise.category if promise else fields["category"],
        customer=fields["customer"] or (promise.customer if promise else None), kind=fields["kind"],
        channel=fields["channel"], severity=fields["severity"], csat_score=fields["csat_score"],
        nps_score=fields["nps_score"], text=fields["text"], received_at=fields["received_at"] or now,
        external_reference=fields["external_reference"], source=FeedbackSource.IMPORT, recorded_by=user,
    ), {}


def feedback_import_csv(*, user: AbstractBaseUser, content: bytes, dry_run: bool = False,
                        now: dt.datetime | None = None) -> ImportResult:
    """Import feedback from a CSV export: every row is validated first; all rows are imported or none.

    Columns: kind, channel, text (required); promise (id), category (slug or name), customer
    (CRM reference or exact name), severity, csat, nps, received_at, external_reference.
    Raises ValidationFailed listing every bad row by its line number, and imports nothing then.
    """
    now = now or timezone.now()
    require_team_member(user, _("Only members of a team may import feedback."))
    if len(content) > conf.get("KVP_IMPORT_MAX_BYTES"):
        raise ValidationFailed(_("The file is larger than %(n)d bytes.") % {"n": conf.get("KVP_IMPORT_MAX_BYTES")},
                               code=FeedbackErrorCode.FILE_TOO_LARGE)
    rows = _read_rows(_decode(content))
    keys, links = _look_up(rows)
    result = ImportResult()
    objects: list[Feedback] = []
    for line, values in rows:
        if EXTRA_FIELDS in values:
            result.errors.append((line, _("the row has more fields than the header")))
            continue
        item, problems = _row_feedback(values, keys=keys, links=links, user=user, now=now)
        if problems:
            result.errors.append((line, "; ".join(f"{COLUMN_OF_FIELD.get(name, name)}: {text}"
                                                  for name, text in problems.items())))
        else:
            objects.append(item)
    if result.errors:
        raise ValidationFailed(
            _("%(bad)d of %(total)d rows are invalid; nothing was imported.") % {
                "bad": len(result.errors), "total": len(rows)},
            code=FeedbackErrorCode.INVALID_ROWS,
            fields={f"line {line}": reason for line, reason in result.errors})  # keys, not prose
    if not dry_run:
        with transaction.atomic():
            Feedback.objects.bulk_create(objects, batch_size=500)
            feedback_summaries_record(objects)
            # One event for the batch: an import is one thing to tell managers about, not thousands.
            feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, actor=user,
                                  payload={"import": True, "count": len(objects),
                                           "categories": sorted({o.category_id for o in objects})})
    result.imported = len(objects)
    return result
