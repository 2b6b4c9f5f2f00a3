"""Crafted request bodies never reach a 500, on every write operation of the API.

The operations are read from the live OpenAPI contract (the same document the schemathesis fuzzing
uses); each hostile shape is sent as every field of each operation's body, and as the whole body,
as JSON and as a form. Every answer must be below 500 and carry the JSON error shape; the shapes
no field can use (too deep, not encodable text, control characters, numbers a float cannot hold)
are refused with 400 by the parsers, before any message could echo them.
"""

from __future__ import annotations

import json
import time

import pytest
import schemathesis
from django.test import override_settings
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from api.errors import exception_handler
from api.renderers import JSONRenderer
from config.wsgi import application
from promises.models import Customer, PromiseCategory
from qualitygates.models import GateReview

from .conftest import token_client
from .scenarios import Scenario

CONTRACT = schemathesis.openapi.from_wsgi("/api/schema/", application).raw_schema
WRITE_METHODS = ("post", "put", "patch")

# Raw JSON texts (not Python values: `1e400`, NaN and lone surrogates must reach the parser as sent).
REFUSED_BY_THE_PARSER = {
    "deep nesting": "[" * 40 + "]" * 40,
    "lone surrogate": '"\\ud800"',
    "surrogate pair half in a list": '["ok", "\\udfff"]',
    "NUL": '"before\\u0000after"',
    "escape character": '"\\u001b[31mred"',
    "1e400": "1e400",
    "-1e400": "-1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "5000 digits": "9" * 5000,
    "surrogate as a key": '{"\\ud800": 1}',
}
# Valid JSON that the fields must refuse (or accept) without crashing.
REFUSED_BY_THE_FIELDS = {
    "2**70": str(2**70),
    "negative 2**63": str(-(2**63)),
    "1e308": "1e308",
    "tiny float": "5e-324",
    "'1e400' as text": '"1e400"',
    "'NaN' as text": '"NaN"',
    "'Infinity' as text": '"-Infinity"',
    "99 nines as text": '"' + "9" * 99 + '"',
    "decimal with 40 places": '"0.' + "1" * 40 + '"',
    "nesting within the limit": "[" * 30 + "]" * 30,
    "object": '{"a": {"b": []}}',
    "long text": json.dumps("x" * 20_000),
    "right-to-left override": '"\\u202e"',
}
WHOLE_BODIES = {
    "[ x 50,000": "[" * 50_000,
    "{ x 50,000": '{"a":' * 50_000,
    "lone surrogate": '"\\ud800"',
    "NaN": "NaN",
    "1e400": "1e400",
    "not JSON": "{'single': 'quotes'}",
    "truncated": '{"comment": "',
    "invalid UTF-8": b'{"comment": "\xff\xfe"}',
}
# Multipart values as bytes on the wire (a surrogate has no valid UTF-8: its would-be bytes are sent).
MULTIPART_VALUES = {"NUL": b"a\x00b", "escape character": b"\x1b[31m", "surrogate bytes": b"\xed\xa0\x80"}
ERROR_KEYS = {"error", "detail", "fields"}


def _resolve(ref: str) -> dict:
    node = CONTRACT
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _fields(operation: dict, media_type: str = "application/json") -> list[str]:
    content = operation.get("requestBody", {}).get("content", {}).get(media_type)
    if not content:
        return []
    body_schema = content["schema"]
    if "$ref" in body_schema:
        body_schema = _resolve(body_schema["$ref"])
    return sorted(body_schema.get("properties", {}))


WRITE_OPERATIONS = [
    (method, path, operation)
    for path, item in CONTRACT["paths"].items()
    for method, operation in item.items()
    if method in WRITE_METHODS and "requestBody" in operation
]


@pytest.fixture
def real_ids(make_promise, seller, service_user, legal_user, delivery_user):
    from feedback.services.improvements import improvement_propose

    """Path ids of real rows, so that the hostile bodies reach views that found their object."""
    scenario = Scenario(make_promise, seller, service_user, legal_user, delivery_user)
    promise = scenario.in_review()
    scenario.condition()
    return {
        "promises": promise.pk,
        # the service team's open gate: the service gatekeeper below may see it
        "gates": GateReview.objects.filter(state="open", owning_team=service_user.groups.get())
        .values_list("pk", flat=True).first(),
        "gate-conditions": scenario.condition().pk,
        "customers": Customer.objects.values_list("pk", flat=True).first(),
        "categories": PromiseCategory.objects.values_list("pk", flat=True).first(),
        # a real item both clients may see: an unknown (or out-of-scope) id answers 404 before the body
        "improvements": improvement_propose(user=seller, title="Spare parts on every van").pk,
        "webhooks": 1,
        "inbox": 1,
    }


def _url(path: str, real_ids: dict) -> str:
    resource = path.split("/")[2]
    return path.replace("{id}", str(real_ids.get(resource) or 1))


def _send(client: APIClient, method: str, url: str, body: bytes | str, content_type: str):
    return client.generic(method.upper(), url, data=body, content_type=content_type)


def _problem(response, expected_status: int | None) -> str | None:
    """What is wrong with the answer, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}"
    if expected_status is not None and response.status_code != expected_status:
        return f"{response.status_code}, expected {expected_status}"
    if response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"{response.status_code} without a JSON body"
        if not isinstance(body, dict) or set(body) != ERROR_KEYS:
            return f"{response.status_code} without the error shape: {str(body)[:120]}"
    return None


@pytest.fixture
def clients(manager, seller):
    result = {}
    for role, user in {"manager": manager, "maker": seller}.items():
        client = token_client(user)
        client.raise_request_exception = False  # a crash must show up as the 500 it would be
        result[role] = client
    return result


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), WRITE_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p, _ in WRITE_OPERATIONS])
def test_hostile_json_in_every_field_is_refused_without_a_crash(method, path, operation, clients, real_ids):
    # given every field of the operation's JSON body (the multipart-only import: its form fields)
    fields = _fields(operation) or _fields(operation, "multipart/form-data")
    assert fields, f"{method.upper()} {path} documents no body fields"
    url = _url(path, real_ids)
    problems = []
    sent = 0
    if not _fields(operation):
        for role, client in clients.items():
            for field in fields:
                for name, value in MULTIPART_VALUES.items():
                    response = client.generic(method.upper(), url, data=_multipart(field, value),
                                              content_type="multipart/form-data; boundary=BOUNDARY")
                    sent += 1
                    if problem := _problem(response, 400 if name != "surrogate bytes" else None):
                        problems.append(f"{role} {field}={name}: {problem}")
    for role, client in clients.items() if _fields(operation) else ():
        for field in fields:
            # when each shape is sent as that field
            for name, raw in REFUSED_BY_THE_PARSER.items():
                response = _send(client, method, url, f'{{"{field}": {raw}}}', "application/json")
                sent += 1
                if problem := _problem(response, 400):
                    problems.append(f"{role} {field}={name}: {problem}")
            for name, raw in REFUSED_BY_THE_FIELDS.items():
                response = _send(client, method, url, f'{{"{field}": {raw}}}', "application/json")
                sent += 1
                if problem := _problem(response, None):
                    problems.append(f"{role} {field}={name}: {problem}")
    # then nothing crashed, and what no field can use was a 400 with the error shape
    assert not problems, f"{len(problems)} of {sent} requests:\n" + "\n".join(problems[:40])


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), WRITE_OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p, _ in WRITE_OPERATIONS])
def test_hostile_whole_bodies_and_forms_are_refused(method, path, operation, clients, real_ids):
    url = _url(path, real_ids)
    client = clients["manager"]
    problems = []
    json_accepted = "application/json" in operation["requestBody"]["content"]
    for name, raw in WHOLE_BODIES.items():
        response = _send(client, method, url, raw, "application/json")
        if problem := _problem(response, 400 if json_accepted else 415):
            problems.append(f"JSON body {name}: {problem}")
    if json_accepted:
        huge = '{"comment": "' + "x" * 3_000_000 + '"}'
        if problem := _problem(_send(client, method, url, huge, "application/json"), 413):
            problems.append(f"3 MB body: {problem}")
    for field in _fields(operation, "application/x-www-form-urlencoded"):
        for value in ("%00", "a%1Bb", "%ED%A0%80"):  # NUL, escape, a surrogate's UTF-8 bytes
            response = _send(client, method, url, f"{field}={value}", "application/x-www-form-urlencoded")
            if problem := _problem(response, None if value == "%ED%A0%80" else 400):
                problems.append(f"form {field}={value}: {problem}")
    for field in _fields(operation, "multipart/form-data"):
        response = client.generic(method.upper(), url, data=_multipart(field, b"a\x00b"),
                                  content_type="multipart/form-data; boundary=BOUNDARY")
        if problem := _problem(response, 400):
            problems.append(f"multipart {field}=NUL: {problem}")
    assert not problems, "\n".join(problems)


def _multipart(field: str, value: bytes) -> bytes:
    return (f'--BOUNDARY\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'.encode() + value
            + b"\r\n--BOUNDARY--\r\n")


# --- the cases of the issue, one by one -------------------------------------------------------------

@pytest.mark.django_db
def test_50000_open_brackets_answer_400_not_a_recursion_error(clients):
    response = _send(clients["maker"], "post", "/api/promises/", "[" * 50_000, "application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "nested deeper than 32" in response.json()["detail"]


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_choice_field_is_refused_before_it_is_echoed(real_ids, clients, service_user):
    client = token_client(service_user)
    client.raise_request_exception = False
    response = _send(client, "post", f"/api/gates/{real_ids['gates']}/decide/",
                     '{"decision": "\\ud800", "comment": "x"}', "application/json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"decision": "Text must be valid Unicode (a lone surrogate is not)."}


@pytest.mark.django_db
@pytest.mark.parametrize(("levels", "refused_by_the_parser"), [(32, False), (33, True), (999, True)])
def test_the_nesting_limit_is_32_levels(clients, levels, refused_by_the_parser):
    body = '{"title": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
    response = _send(clients["maker"], "post", "/api/promises/", body, "application/json")
    assert response.status_code == 400
    assert ("nested deeper than 32" in response.json()["detail"]) is refused_by_the_parser


@pytest.mark.django_db
@pytest.mark.parametrize("text", ['"' + '\\"' * 1_000_000, '["' + "\\\\" * 1_000_000 + '"]',
                                  "[" * 1_200_000, '{"a": [' + "1," * 1_000_000 + "1]}"],
                         ids=["escaped quotes", "backslashes", "brackets", "a million numbers"])
def test_a_large_hostile_body_is_refused_in_linear_time(clients, text):
    # a body of up to the 2.5 MB limit crafted against a scanner (a string of escaped quotes made
    # an earlier bracket count quadratic: hours); each must be answered in well under a second or two
    started = time.perf_counter()
    response = _send(clients["maker"], "post", "/api/promises/", text, "application/json")
    assert response.status_code == 400
    assert time.perf_counter() - started < 10


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["category", "customer"])
def test_1e400_as_an_id_answers_400(clients, field):
    response = _send(clients["maker"], "post", "/api/promises/", f'{{"{field}": 1e400}}', "application/json")
    assert response.status_code == 400
    assert "out of the range" in response.json()["detail"]


@pytest.mark.django_db
def test_nul_in_a_title_answers_400_naming_the_field(clients):
    response = _send(clients["maker"], "post", "/api/promises/", '{"title": "a\\u0000b"}', "application/json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["title"]


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_answers_413_with_the_error_shape(clients):
    response = _send(clients["maker"], "post", "/api/promises/", json.dumps({"title": "x" * 2000}),
                     "application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_the_renderer_writes_text_that_utf8_cannot_encode():
    # given a value a client stored before the parsers refused surrogates
    rendered = JSONRenderer().render({"title": "a\ud800b"})
    # then it is written as an escape instead of failing the response
    assert json.loads(rendered) == {"title": "a\ud800b"}


def test_the_error_handler_does_not_echo_text_it_cannot_encode():
    response = exception_handler(ValidationError({"decision": ['"\ud800" is not a valid choice.']}), {})
    body = JSONRenderer().render(response.data)
    assert response.status_code == 400
    assert json.loads(body)["fields"] == {"decision": '"?" is not a valid choice.'}


@pytest.mark.django_db
def test_every_action_that_reads_a_body_documents_it():
    # given the operations that take no input at all (deletes and switches)
    without_body = {(m, p) for p, item in CONTRACT["paths"].items() for m, op in item.items()
                    if m in (*WRITE_METHODS, "delete") and "requestBody" not in op}
    # then every other write documents its request body (improvement `plan`, promise `commit`, …)
    assert without_body == {
        ("delete", "/api/auth/token/"), ("delete", "/api/promises/{id}/"),
        ("post", "/api/inbox/{id}/read/"), ("post", "/api/inbox/read-all/"),
        ("post", "/api/webhooks/{id}/enable/"), ("post", "/api/webhooks/{id}/disable/"),
        ("post", "/api/customers/{id}/erase/"),
    }
    assert ("post", "/api/improvements/{id}/plan/") in {(m, p) for m, p, _ in WRITE_OPERATIONS}
