"""Every endpoint × every role, with the status the domain rules give.

The API adds no rules of its own: each cell is the services' answer (or 401 before them). The
promise belongs to the maker; its first approval gate (Feasibility) is owned by the service team
(gk_own); gk_other is a legal gatekeeper (legal owns the second approval gate, so legal may verify
the promise too, as a team owning one of its gates); the manager is in no gate team.
"""

from __future__ import annotations

import pytest

from notifications import services as notifications

from .scenarios import Scenario

PROMISE_BODY = {
    "title": "Hotline 24/7", "category": "{category}", "customer": "{customer}", "origin_department": "sales",
    "channel": "offer", "metric": "availability", "comparison": "gte", "target_value": "99.5", "unit": "%",
    "due_date": "2027-06-30",
}

# method  path                                  body                          anon maker gk_own gk_other manager
MATRIX = [
    ("GET", "/api/schema/", None, 200, 200, 200, 200, 200),
    ("GET", "/api/docs/", None, 200, 200, 200, 200, 200),
    ("GET", "/api/me/", None, 401, 200, 200, 200, 200),
    ("DELETE", "/api/auth/token/", None, 401, 204, 204, 204, 204),
    ("GET", "/api/customers/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/customers/", {"name": "Neu GmbH"}, 401, 201, 403, 403, 201),
    ("GET", "/api/customers/{customer}/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/categories/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/categories/{category}/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/promises/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/promises/", PROMISE_BODY, 401, 201, 403, 403, 201),
    ("GET", "/api/promises/{draft}/", None, 401, 200, 200, 200, 200),
    ("PATCH", "/api/promises/{draft}/", {"title": "Hotline 24/5"}, 401, 200, 403, 403, 200),
    ("DELETE", "/api/promises/{draft}/", None, 401, 204, 403, 403, 204),
    ("POST", "/api/promises/{draft}/submit/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{in_review}/withdraw/", {"comment": "Deal lost"}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{rework}/resubmit/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{approved}/commit/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{committed}/handover/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{in_delivery}/verify/", {"actual_value": "3.5"}, 401, 200, 200, 200, 200),
    ("GET", "/api/promises/{in_review}/trail/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/gates/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/gates/{open_gate}/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/gates/{open_gate}/decide/", {"decision": "kill", "comment": "Not feasible"},
     401, 403, 200, 403, 403),
    ("POST", "/api/gates/{held_gate}/resume/", {}, 401, 403, 200, 403, 200),
    ("POST", "/api/gate-conditions/{condition}/meet/", {"note": "In stock"}, 401, 403, 200, 403, 200),
    ("GET", "/api/inbox/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/inbox/unread-count/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/inbox/read-all/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/webhooks/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/webhooks/", {"name": "Chat", "url": "https://chat.example.com/h"}, 401, 201, 201, 201, 201),
    # a webhook is its owner's (the maker's) alone: to anyone else it does not exist
    ("POST", "/api/webhooks/{webhook}/disable/", None, 401, 200, 404, 404, 404),
    ("POST", "/api/webhooks/{webhook}/enable/", None, 401, 200, 404, 404, 404),
]
ROLES = ["anon", "maker", "gk_own", "gk_other", "manager"]
CASES = [
    pytest.param(method, path, body, role, expected[i], id=f"{method} {path} as {role}")
    for method, path, body, *expected in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.fixture
def scenario(make_promise, seller, service_user, legal_user, delivery_user):
    return Scenario(make_promise, seller, service_user, legal_user, delivery_user)


def _resolve(template, scenario, category, customer):
    """Build only what the row needs: each placeholder names a state reached through the services."""
    builders = {
        "category": lambda: category.pk, "customer": lambda: customer.pk,
        "draft": lambda: scenario.draft().pk, "in_review": lambda: scenario.in_review().pk,
        "rework": lambda: scenario.rework().pk, "approved": lambda: scenario.approved().pk,
        "committed": lambda: scenario.committed().pk, "in_delivery": lambda: scenario.in_delivery().pk,
        "open_gate": lambda: scenario.in_review().gate_reviews.get(state="open").pk,
        "held_gate": lambda: scenario.held_gate().pk, "condition": lambda: scenario.condition().pk,
        "webhook": lambda: notifications.webhook_subscription_create(
            user=scenario.seller, name="CRM", url="https://crm.example.com/hook").pk,
    }
    if isinstance(template, dict):
        return {k: _resolve(v, scenario, category, customer) for k, v in template.items()}
    if isinstance(template, str) and "{" in template:
        names = [part.split("}")[0] for part in template.split("{")[1:]]
        values = {name: builders[name]() for name in names}
        if template.startswith("{") and template.endswith("}") and len(names) == 1:
            return values[names[0]]
        return template.format(**values)
    return template


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_authorization_matrix(api, scenario, category, customer, method, path, body, role, expected):
    # given the state the row needs and a client of the role
    url = _resolve(path, scenario, category, customer)
    data = _resolve(body, scenario, category, customer)
    client = api(role)

    # when the role calls the endpoint
    response = getattr(client, method.lower())(url, data=data, format="json")

    # then the status is the domain's answer, and an error always has the one error shape
    assert response.status_code == expected, (response.status_code, getattr(response, "data", None))
    if expected >= 400:
        assert set(response.json()) == {"error", "detail", "fields"}
