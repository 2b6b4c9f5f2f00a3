"""Schema post-processing: every operation documents the error shape it may answer with."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "A stable code naming the rule, e.g. four_eyes."},
        "detail": {"type": "string", "description": "A message for people."},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Per-field messages for invalid input."},
    },
    "required": ["error", "detail", "fields"],
}

_DESCRIPTIONS = {
    "400": "Invalid input.",
    "401": "Not authenticated.",
    "403": "Not allowed by the domain rules.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "409": "Illegal transition or lost race.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests.",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            codes = ["400", "401", "403", "404", "405", "429"]
            if method in _WRITE_METHODS:
                codes += ["409", "413", "415"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": _DESCRIPTIONS[code],
                                            "content": {"application/json": {"schema": ref}}})
    return result
