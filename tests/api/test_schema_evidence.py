"""The OpenAPI schema describes the catalogue and the evidence: a category's metrics, a promise's
metric by id with its name and unit, the record's evidence and its query, and the evidence and
pre-filled checks of a gate review."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def schema(db):
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _properties(schema, name: str) -> set[str]:
    return set(schema["components"]["schemas"][name]["properties"])


def test_the_schema_describes_the_catalogue_and_the_evidence(schema):
    assert {"metrics"} <= _properties(schema, "Category")
    assert {"id", "name", "unit", "direction", "kind"} <= _properties(schema, "MetricRef")
    assert {"metric", "metric_name", "unit"} <= _properties(schema, "Promise")
    assert {"metric", "unit"} <= _properties(schema, "PromiseWriteRequest")
    assert {"evidence"} <= _properties(schema, "CategoryRecord")
    assert {"count", "sufficient", "minimum", "median", "p80", "p95", "worst", "target", "met",
            "met_share"} <= _properties(schema, "Evidence")
    assert {"evidence", "checks"} <= _properties(schema, "GateReviewDetail")
    assert {"kind", "evidence_min_share", "prefilled_result", "overridden"} <= _properties(schema, "GateCheck")
    record = schema["paths"]["/api/categories/{id}/record/"]["get"]
    assert {"metric", "target", "window_days", "until"} <= {p["name"] for p in record["parameters"]}
