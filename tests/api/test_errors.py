"""Bad input is a 400 in the one error shape, never a 500 and never a partial write."""

from __future__ import annotations

import json

import pytest

from promises.models import ServicePromise
from tests.factories import catalogue_metric

from .scenarios import open_gate


def _promise_body(cat, cust, **overrides):
    body = {
        "title": "Technician within 4 h", "category": cat.pk, "customer": cust.pk if cust else None,
        "origin_department": "sales", "channel": "contract", "metric": catalogue_metric(cat).pk,
        "comparison": "lte",
        "target_value": "4", "unit": "h", "due_date": "2027-03-31",
    }
    body.update(overrides)
    return body


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    if code:
        assert body["error"] == code, body
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("target_value", "1" + "0" * 40),           # beyond numeric(14, 3)
    ("target_value", "NaN"),
    ("target_value", "Infinity"),
    ("deal_value", "-5"),
    ("title", "Hotline\x00 24/7"),              # PostgreSQL refuses NUL in text
    ("title", "x" * 201),
    ("description", "\ud800"),                  # a lone surrogate cannot be stored as UTF-8
    ("due_date", "99999-01-01"),
    ("due_date", "0000-01-01"),
    ("category", 2**70),                        # beyond bigint
    ("customer", -1),
    ("category", "abc"),
    ("channel", "pigeon"),
    ("title", 42),                              # text is text: a number is not silently "42"
    ("description", ["Liability capped"]),
])
def test_bad_promise_input_is_400_and_writes_nothing(api, category, customer, field, value):
    # sent as escaped JSON, as a program would, so that even a lone surrogate arrives intact
    payload = json.dumps(_promise_body(category, customer, **{field: value}))
    response = api("maker").generic("POST", "/api/promises/", payload, content_type="application/json")
    body = _assert_error(response, 400, "invalid")
    assert field in body["fields"]
    assert not ServicePromise.objects.exists()


@pytest.mark.django_db
def test_domain_validation_names_the_rule(api, category):
    # neither a customer nor a segment: the model's rule, reported by the service
    response = api("maker").post("/api/promises/", _promise_body(category, None, customer=None), format="json")
    body = _assert_error(response, 400, "invalid_promise")
    assert "customer" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", [
    {"search": "a\x00b"}, {"category": str(2**70)}, {"owner": "-1"}, {"state": "nonsense"},
    {"page": "999999"}, {"page_size": "100000000000000000000"}, {"due_before": "99999-99-99"},
    {"ordering": "secret_field"},
])
def test_bad_query_parameters_never_500(api, make_promise, query):
    make_promise()
    response = api("maker").get("/api/promises/", query)
    assert response.status_code in (200, 400, 404), response.content
    if response.status_code != 200:
        _assert_error(response, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [
    "/api/promises/999999999999999999/", "/api/promises/99999999999999999999999/", "/api/promises/abc/",
    "/api/gates/999999999999999999/decide/", "/api/no-such-thing/",
])
def test_unknown_ids_and_paths_are_json_404(api, path):
    client = api("maker")
    if "decide" in path:
        response = client.post(path, {"decision": "kill", "comment": "No"}, format="json")
    else:
        response = client.get(path)
    _assert_error(response, 404)


@pytest.mark.django_db
def test_malformed_json_is_400(api):
    response = api("maker").generic("POST", "/api/promises/", "{not json", content_type="application/json")
    _assert_error(response, 400)


@pytest.mark.django_db
def test_illegal_transition_is_409_with_the_rule(api, make_promise):
    promise = make_promise()
    body = _assert_error(api("maker").post(f"/api/promises/{promise.pk}/commit/", {}, format="json"), 409,
                         "illegal_transition")
    assert "draft" in body["detail"]


@pytest.mark.django_db
def test_deciding_a_decided_gate_is_409(api, make_promise, seller):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = open_gate(promise)
    url = f"/api/gates/{gate.pk}/decide/"
    first = api("gk_own").post(url, {"decision": "kill", "comment": "Not feasible"}, format="json")
    assert first.status_code == 200, first.data
    _assert_error(api("gk_own").post(url, {"decision": "kill", "comment": "Again"}, format="json"), 409,
                  "already_decided")


@pytest.mark.django_db
def test_go_without_checks_is_400_and_the_gate_stays_open(api, make_promise, seller):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = open_gate(promise)
    _assert_error(api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {"decision": "go"}, format="json"), 400,
                  "checks_missing")
    gate.refresh_from_db()
    assert gate.state == "open"


@pytest.mark.django_db
def test_four_eyes_owner_in_the_gate_team_may_not_decide(api, make_promise, service_user):
    # given a promise owned by someone who is also in the service team (and a maker, so may own it)
    from django.contrib.auth.models import Group

    from core import roles
    from promises import services as promises

    service_user.groups.add(Group.objects.get_or_create(name=roles.SALES)[0])
    promise = promises.promise_submit(promise_id=make_promise(user=service_user).pk, user=service_user)
    gate = open_gate(promise)
    # when they decide their own promise's gate, then four-eyes says no
    _assert_error(api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {"decision": "kill", "comment": "x"},
                                     format="json"), 403, "four_eyes")


@pytest.mark.django_db
def test_a_form_with_more_fields_than_allowed_is_400_not_500(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=x" for i in range(50))
    response = api("maker").generic("POST", "/api/promises/", body,
                                    content_type="application/x-www-form-urlencoded")
    _assert_error(response, 400, "invalid")
    assert not ServicePromise.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("changes", [{"state": "approved"}, {"owner": 1}, {"rework_rounds": 0},
                                     {"title": "Fine", "actual_value": "3"}, {"no_such_field": 1}])
def test_editing_a_field_that_is_not_editable_is_refused_by_name(api, make_promise, changes):
    # given a draft, when a client sends a field the promise does not let it change
    draft = make_promise()
    response = api("maker").patch(f"/api/promises/{draft.pk}/", changes, format="json")
    # then it hears which field, under the promise's rule, and nothing is changed
    body = _assert_error(response, 400, "not_editable")
    unknown = set(changes) - {"title"}
    assert set(body["fields"]) == unknown and all(name in body["detail"] for name in unknown)
    assert ServicePromise.objects.get(pk=draft.pk).title == draft.title


@pytest.mark.django_db
@pytest.mark.parametrize("changes", [["title"], "title", None, 5])
def test_an_edit_that_is_not_an_object_is_400(api, make_promise, changes):
    draft = make_promise()
    response = api("maker").generic("PATCH", f"/api/promises/{draft.pk}/", json.dumps(changes),
                                    content_type="application/json")
    _assert_error(response, 400)
    assert ServicePromise.objects.get(pk=draft.pk).updated_at == draft.updated_at


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "payload"), [
    ("/api/promises/{pk}/submit/", {"coment": "typo"}),
    ("/api/promises/{pk}/withdraw/", {"comment": "", "reason": "Withdrawn"}),
    ("/api/promises/", {"state": "approved"}),
])
def test_unknown_fields_in_a_write_body_are_400_naming_them(api, make_promise, path, payload):
    draft = make_promise()
    body = _assert_error(api("maker").post(path.format(pk=draft.pk), payload, format="json"), 400, "invalid")
    unknown = {"coment", "reason", "state"} & set(payload)
    assert unknown <= set(body["fields"])
    assert ServicePromise.objects.get(pk=draft.pk).state == "draft"


@pytest.mark.django_db
@pytest.mark.parametrize("comment", [42, 4.2, ["No"], {"text": "No"}, True])
def test_a_comment_that_is_not_text_is_400(api, make_promise, seller, comment):
    from promises import services as promises

    promise = promises.promise_submit(promise_id=make_promise().pk, user=seller)
    gate = open_gate(promise)
    response = api("gk_own").post(f"/api/gates/{gate.pk}/decide/", {"decision": "kill", "comment": comment},
                                  format="json")
    body = _assert_error(response, 400, "invalid")
    assert "comment" in body["fields"]
    gate.refresh_from_db()
    assert gate.state == "open"


@pytest.mark.django_db
@pytest.mark.parametrize("name", [42, ["Stadtwerke"], None])
def test_a_customer_name_that_is_not_text_is_400(api, name):
    response = api("maker").post("/api/customers/", {"name": name}, format="json")
    body = _assert_error(response, 400, "invalid")
    assert "name" in body["fields"]
