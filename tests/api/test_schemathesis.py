"""Property-based fuzzing of the live OpenAPI contract (schemathesis), as every role.

The schema is fetched from /api/schema/ through the Django WSGI application, then every operation
is called with generated valid and invalid input as an anonymous client, a promise maker, a
gatekeeper and a manager. Every response must be a non-5xx answer that conforms to the schema:
a documented status code, the documented content type and headers, and a body matching the
documented schema (the error shape included).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import token_issue
from config.wsgi import application
from promises.models import Customer, PromiseCategory
from qualitygates.models import GateReview

from .scenarios import Scenario

# Bounded so this file runs in a couple of minutes on two cores; every operation and role still
# gets valid, invalid and boundary input.
MAX_EXAMPLES = 4
CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "allow-x00": True,
                   "deterministic": True},
})
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
ROLES = ["anon", "maker", "gatekeeper", "manager"]
GENERATED: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_generated_cases(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture and GENERATED:
        per_role = ", ".join(f"{role} {GENERATED.get(role, 0)}" for role in ROLES)
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nschemathesis: {GENERATED['cases']} generated cases, each sent as every role "
                                f"({per_role} requests)")


@pytest.fixture
def _requests_keep_the_test_transaction():
    # Django closes "old" connections around each request; the test's connection is inside the
    # test transaction, so it must stay open across the WSGI calls (as Django's own test client does).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Ids of rows the fixture created, by resource. Random ids almost never exist; two of three
# generated ids are mapped onto real rows so that actions also run on real promises and gates.
REAL_IDS: dict[str, list[int]] = {}


@schema.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters:
        return path_parameters
    value = path_parameters.get("id")
    resource = context.operation.path.split("/")[2] if context.operation else ""
    ids = REAL_IDS.get(resource)
    if ids and isinstance(value, str) and value.isdigit() and len(value) <= 18 and int(value) % 3:
        path_parameters["id"] = str(ids[int(value) % len(ids)])
    return path_parameters


@pytest.fixture
def role_headers(make_promise, seller, service_user, legal_user, delivery_user, manager):
    """Tokens per role, and promises and gates in several states so that ids 1… hit real rows too."""
    scenario = Scenario(make_promise, seller, service_user, legal_user, delivery_user)
    promises = [scenario.draft(), scenario.draft(), scenario.in_review(), scenario.rework(), scenario.approved(),
                scenario.committed(), scenario.in_delivery()]
    held = scenario.held_gate()
    condition = scenario.condition()
    REAL_IDS.clear()
    REAL_IDS.update({
        "promises": [p.pk for p in promises] + [held.promise_id],
        "gates": list(GateReview.objects.filter(state__in=["open", "on_hold"]).values_list("pk", flat=True)),
        "gate-conditions": [condition.pk],
        "customers": list(Customer.objects.values_list("pk", flat=True)),
        "categories": list(PromiseCategory.objects.values_list("pk", flat=True)),
    })
    users = {"maker": seller, "gatekeeper": service_user, "manager": manager}
    headers = {"anon": {}}
    for role, user in users.items():
        headers[role] = {"Authorization": f"Token {token_issue(user=user).key}"}
    return headers


@pytest.mark.django_db
@pytest.mark.usefixtures("_requests_keep_the_test_transaction")
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_contract(case, role_headers):
    # Each generated case is sent as every role: one data set-up per operation, not per role.
    GENERATED["cases"] = GENERATED.get("cases", 0) + 1
    for role in ROLES:
        GENERATED[role] = GENERATED.get(role, 0) + 1
        try:
            case.call_and_validate(headers=role_headers[role], checks=CHECKS)
        except Exception as exc:
            exc.add_note(f"as role: {role}")
            raise
