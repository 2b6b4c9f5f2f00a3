"""The error codes of promises (the `error` of the JSON error shape): part of the public contract."""

from __future__ import annotations

from enum import StrEnum


class PromiseErrorCode(StrEnum):
    INVALID_PROMISE = "invalid_promise"
    INVALID_CUSTOMER = "invalid_customer"
    NOT_PROMISE_MAKER = "not_promise_maker"
    NOT_OWNER = "not_owner"
    NOT_VERIFIER = "not_verifier"
    NOT_EDITABLE = "not_editable"
    NOT_EDITABLE_STATE = "not_editable_state"
    CATEGORY_FIXED = "category_fixed"
    NO_GATE_PLAN = "no_gate_plan"
    HANDOVER_UNDER_WAY = "handover_under_way"
    REASON_REQUIRED = "reason_required"
    CLOSURE_GATE = "closure_gate"
    NOT_DRAFT = "not_draft"
    # the metric catalogue and the evidence drawn from it
    INVALID_METRIC = "invalid_metric"
    METRIC_IN_USE = "metric_in_use"
    METRIC_INACTIVE = "metric_inactive"
    METRIC_NOT_IN_CATEGORY = "metric_not_in_category"
    COMPARISON_AGAINST_DIRECTION = "comparison_against_direction"
    UNIT_NOT_METRICS = "unit_not_metrics"
    WINDOW_IN_FUTURE = "window_in_future"
    TARGET_NOT_FINITE = "target_not_finite"
    NO_STATUS_LINK = "no_status_link"
    NOT_COMMITTED = "not_committed"
    ALREADY_ERASED = "already_erased"
