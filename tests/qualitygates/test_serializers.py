"""A decision's body is parsed once, into typed values: whatever is not the right shape is refused
here, naming the field, before any service runs. The rules (every criterion, must-meet met, n/a
with a note, due in the future …) are the services' and tested in test_rules.py."""

from __future__ import annotations

import datetime as dt

import pytest

from qualitygates.checks import CheckInput
from qualitygates.conditions import ConditionInput
from qualitygates.models import CheckResult, Decision
from qualitygates.serializers import DecideSerializer

pytestmark = pytest.mark.django_db


def tomorrow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def parse(body: dict):
    serializer = DecideSerializer(data=body)
    return serializer.validated_data if serializer.is_valid() else serializer.errors


def refused(body: dict, field: str) -> None:
    serializer = DecideSerializer(data=body)
    assert not serializer.is_valid()
    assert field in serializer.errors, serializer.errors


def test_a_go_is_parsed_into_typed_checks_and_conditions(delivery_user):
    due = tomorrow().replace(microsecond=0)
    data = parse({
        "decision": "go", "comment": "  Fine  ",
        "checks": [{"check": 7, "result": "met"}, {"check": "8", "result": "na", "note": " Pilot "}],
        "conditions": [{"description": "Stock", "owner": str(delivery_user.pk), "due_at": due.isoformat()}],
    })
    assert data["decision"] is Decision.GO
    assert data["comment"] == "Fine"
    assert data["checks"] == [CheckInput(check_id=7, result=CheckResult.MET, note=""),
                              CheckInput(check_id=8, result=CheckResult.NOT_APPLICABLE, note="Pilot")]
    assert data["conditions"] == [ConditionInput(description="Stock", owner=delivery_user, due_at=due)]


def test_a_decision_without_checks_or_conditions_has_empty_lists():
    data = parse({"decision": "kill", "comment": "No capacity"})
    assert (data["decision"], data["checks"], data["conditions"]) == (Decision.KILL, [], [])


@pytest.mark.parametrize("decision", ["approve", "", None, "GO", ["go"]])
def test_an_unknown_decision_is_refused(decision):
    refused({"decision": decision, "comment": "x"}, "decision")


@pytest.mark.parametrize("comment", [["no"], 42, {"text": "no"}, None, True])
def test_a_comment_must_be_text(comment):
    refused({"decision": "kill", "comment": comment}, "comment")


@pytest.mark.parametrize("bad_check", [
    {"check": "abc", "result": "met"},
    {"check": [1], "result": "met"},
    {"check": None, "result": "met"},
    {"check": 2**64, "result": "met"},
    {"check": 0, "result": "met"},
    {"result": "met"},
    "met",
    7,
])
def test_malformed_checks_are_invalid_input(bad_check):
    refused({"decision": "go", "checks": [{"check": 1, "result": "met"}, bad_check]}, "checks")


@pytest.mark.parametrize("result", ["", "yes", None, "MET"])
def test_a_check_result_is_met_not_met_or_na(result):
    refused({"decision": "go", "checks": [{"check": 1, "result": result}]}, "checks")


@pytest.mark.parametrize("note", [3, ["n/a"], {"why": "pilot"}])
def test_a_check_note_is_text(note):
    refused({"decision": "go", "checks": [{"check": 1, "result": "na", "note": note}]}, "checks")


@pytest.mark.parametrize("checks", ["met", {"check": 1}, 5])
def test_checks_that_are_not_a_list_are_invalid_input(checks):
    refused({"decision": "go", "checks": checks}, "checks")


@pytest.mark.parametrize("condition", [
    {"description": "", "owner": "delivery", "due_at": "tomorrow"},
    {"description": "Stock", "owner": 999_999, "due_at": "tomorrow"},
    {"description": "Stock", "owner": 2**64, "due_at": "tomorrow"},
    {"description": "Stock", "owner": "delivery", "due_at": None},
    {"description": "Stock", "owner": "delivery", "due_at": "next week"},
    {"description": "x" * 301, "owner": "delivery", "due_at": "tomorrow"},
    {"description": ["Stock"], "owner": "delivery", "due_at": "tomorrow"},
    {"description": 42, "owner": "delivery", "due_at": "tomorrow"},
    {"description": "Stock", "owner": [1], "due_at": "tomorrow"},
    "Stock by Friday",
], ids=["no-description", "unknown-owner", "owner-beyond-range", "no-due", "unparseable-due", "too-long",
        "description-not-text", "description-a-number", "owner-not-an-id", "not-an-object"])
def test_malformed_conditions_are_invalid_input(delivery_user, condition):
    if isinstance(condition, dict):
        condition = dict(condition)
        if condition["owner"] == "delivery":
            condition["owner"] = delivery_user.pk
        if condition["due_at"] == "tomorrow":
            condition["due_at"] = tomorrow().isoformat()
    refused({"decision": "go", "conditions": [condition]}, "conditions")
