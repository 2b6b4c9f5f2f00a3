"""Structured logs: one JSON object per line, each carrying the id of the request that caused it.

The request id lives in a context variable: the web middleware (core/middleware.py) sets it for a
request, the Celery signals (config/celery.py) put it on every task message published meanwhile and
set it again in the worker while that task runs, so a request and the tasks it caused share one id.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# What a client may choose as its request id: short, and nothing a log or a header could trip over.
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Every attribute a plain LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# gunicorn's access log passes its atoms as the record's args: the ones worth a field of their own.
_ACCESS_ATOMS = {"h": "remote", "m": "method", "U": "path", "q": "query", "s": "status", "B": "bytes",
                 "a": "user_agent"}


def request_id_get() -> str | None:
    return _request_id.get()


def request_id_set(value: str | None) -> Token:
    return _request_id.set(value)


def request_id_reset(token: Token) -> None:
    _request_id.reset(token)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_from_client(value: str | None) -> str:
    """The client's X-Request-ID when it is a sane token (so logs join across services), else a new id."""
    if value and _CLIENT_REQUEST_ID.fullmatch(value):
        return value
    return request_id_new()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _request_id.get()
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _access_fields(atoms: dict) -> dict:
    fields = {name: atoms.get(atom) for atom, name in _ACCESS_ATOMS.items() if atoms.get(atom) not in (None, "-")}
    if atoms.get("D") not in (None, "-"):
        fields["duration_ms"] = round(int(atoms["D"]) / 1000, 3)
    if "status" in fields and str(fields["status"]).isdigit():
        fields["status"] = int(fields["status"])
    request_id = atoms.get("{x-request-id}o")
    if request_id and request_id != "-":
        fields["request_id"] = request_id
    return fields


class TextFormatter(logging.Formatter):
    """One readable line, with the request id, for a developer's terminal (LOG_FORMAT=text)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return super().format(record)
