"""The error codes of the gate engine (the `error` of the JSON error shape): part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class GateErrorCode(StrEnum):
    NOT_GATE_TEAM = "not_gate_team"
    FOUR_EYES = "four_eyes"
    NOT_CONDITION_OWNER = "not_condition_owner"
    INVALID_CHECKS = "invalid_checks"
    CHECKS_MISSING = "checks_missing"
    MUST_CRITERIA_UNMET = "must_criteria_unmet"
    INVALID_CONDITIONS = "invalid_conditions"
    CONDITIONS_NEED_GO = "conditions_need_go"
    COMMENT_REQUIRED = "comment_required"
    ALREADY_DECIDED = "already_decided"
    KILL_AT_CLOSURE = "kill_at_closure"
    CONCURRENT_CHANGE = "concurrent_change"
    OVERRIDE_NEEDS_REASON = "override_needs_reason"
    INVALID_CRITERION_CHANGE = "invalid_criterion_change"
    NO_CHANGE = "no_change"
    STALE_PLAN_VERSION = "stale_plan_version"
    CONCURRENT_PLAN_REVISION = "concurrent_plan_revision"
