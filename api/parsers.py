"""Request body parsers for every API view: what no field of any app can use is refused here, once,
before a serializer sees it (and before any error message could echo it).

JSON bodies are read up to DATA_UPLOAD_MAX_MEMORY_SIZE (413 beyond), nested at most
API_JSON_MAX_DEPTH deep (the standard library's parser recurses: `[` x 50,000 raised
RecursionError), without NaN/Infinity or numbers that overflow a float (`1e400` became inf and
then an OverflowError in a field). In every body, JSON or form, a string must be text that can be
encoded: no lone surrogates (`"\\ud800"`), no control characters other than tab, newline and
carriage return (PostgreSQL refuses NUL in text). The error names the field, never the value.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is larger than the server accepts.")
    default_code = "too_large"


def _max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _max_depth() -> int:
    return settings.API_JSON_MAX_DEPTH


def _read_bounded(stream, parser_context: dict) -> bytes:
    limit = _max_body_bytes()
    request = parser_context.get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and str(declared).isdigit() and int(declared) > limit:
        raise BodyTooLarge(_("The request body is larger than the server accepts (%(limit)s bytes).")
                           % {"limit": limit})
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(_("The request body is larger than the server accepts (%(limit)s bytes).")
                           % {"limit": limit})
    return body


def _too_deep() -> ParseError:
    return ParseError(_("The JSON body is nested deeper than %(limit)s levels.") % {"limit": _max_depth()})


def _check_depth(data) -> None:
    """Iterative, so that checking a deep body cannot exhaust the stack the parser was spared."""
    limit = _max_depth()
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                raise _too_deep()
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))


def _refuse_constant(name: str):
    raise ValueError(_("%(name)s is not a number this API accepts.") % {"name": name})


def _finite_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise ValueError(_("A number is out of the range this API accepts."))
    return value


def _strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, string) of every key and string value in a parsed body; keys count as text too."""
    if isinstance(value, str):
        yield path or "non_field_errors", value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _strings(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def unusable_text(text: str) -> str | None:
    """Why `text` cannot be stored or echoed, or None when it can."""
    if _SURROGATES.search(text):
        return _("Text must be valid Unicode (a lone surrogate is not).")
    if _CONTROL_CHARACTERS.search(text):
        return _("Control characters (such as NUL) are not allowed in text.")
    return None


def _check_text(pairs) -> None:
    problems: dict[str, str] = {}
    for name, text in pairs:
        reason = unusable_text(text)
        if reason and name not in problems:
            # The field's name may itself be the bad text (a key): name it without echoing it.
            problems[name if unusable_text(name) is None else "non_field_errors"] = reason
    if problems:
        raise ValidationError(problems)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        try:
            text = codecs.decode(_read_bounded(stream, parser_context), encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(_("The JSON body is not valid %(encoding)s.") % {"encoding": encoding}) from exc
        try:
            data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError as exc:
            # The C decoder stops at the interpreter's recursion limit (about 1,000 levels) and unwinds
            # cleanly; shallower bodies are measured below. Linear either way: a scan of the raw text
            # for brackets outside strings was quadratic on strings full of escaped quotes.
            raise _too_deep() from exc
        except ValueError as exc:
            # Syntax errors, refused constants, overflowing floats and integers with more digits than
            # Python converts; the message names the position, not the value.
            raise ParseError(_("JSON parse error - %(reason)s") % {"reason": _describe(exc)}) from exc
        _check_depth(data)
        _check_text(_strings(data))
        return data


def _describe(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}: line {exc.lineno} column {exc.colno}"
    return str(exc) if not unusable_text(str(exc)) else _("the body is not JSON this API accepts")


def _form_pairs(data: QueryDict) -> Iterator[tuple[str, str]]:
    for key, values in data.lists():
        yield key, key
        for value in values:
            yield key, value


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        data = QueryDict(_read_bounded(stream, parser_context), encoding=encoding)
        _check_text(_form_pairs(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_text(_form_pairs(result.data))
        _check_text((key, file.name or "") for key, file in result.files.items())
        return result
