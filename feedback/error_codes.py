"""The error codes of the KVP loop (the `error` of the API's JSON error shape).

Codes every app shares (invalid, not_allowed, not_found, illegal_transition, conflict, not_manager)
are `core.errors.CommonErrorCode`.
"""

from __future__ import annotations

from enum import StrEnum


class FeedbackErrorCode(StrEnum):
    # who may record
    NOT_TEAM_MEMBER = "not_team_member"
    # feedback and the customer's rating
    INVALID_FEEDBACK = "invalid_feedback"
    NOT_VERIFIED = "not_verified"
    ALREADY_RATED = "already_rated"
    # CSV import
    FILE_TOO_LARGE = "file_too_large"
    BAD_ENCODING = "bad_encoding"
    BAD_CSV = "bad_csv"
    MISSING_COLUMNS = "missing_columns"
    TOO_MANY_ROWS = "too_many_rows"
    EMPTY_FILE = "empty_file"
    INVALID_ROWS = "invalid_rows"
    # guidance
    GUIDANCE_TEXT_REQUIRED = "guidance_text_required"
    GUIDANCE_CATEGORY_REQUIRED = "guidance_category_required"
    UNKNOWN_CATEGORY = "unknown_category"
    GUIDANCE_NOT_ACKNOWLEDGED = "guidance_not_acknowledged"
    GUIDANCE_RETIRED = "guidance_retired"
    REASON_REQUIRED = "reason_required"
    # improvement items
    COMMENT_REQUIRED = "comment_required"
    UNKNOWN_LINK = "unknown_link"
    PLAN_INCOMPLETE = "plan_incomplete"
    TARGETS_REQUIRED = "targets_required"
    TARGET_WRONG_DIRECTION = "target_wrong_direction"
    UNIT_NOT_METRICS = "unit_not_metrics"
    MEASUREMENT_WINDOW_IN_FUTURE = "measurement_window_in_future"
    UNKNOWN_TARGET = "unknown_target"
    LESSON_REQUIRED = "lesson_required"
    UNKNOWN_DEFINITION = "unknown_definition"
