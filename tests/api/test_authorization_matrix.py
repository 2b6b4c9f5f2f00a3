"""Every endpoint × every role, with the status the domain rules give.

The API adds no rules of its own: each cell is the services' answer (or 401 before them). The
promise belongs to the maker; its first approval gate (Feasibility) is owned by the service team
(gk_own); gk_other is a legal gatekeeper (legal owns the second approval gate, so legal may verify
the promise too, as a team owning one of its gates); the manager is in no gate team.

A record outside the caller's read scope does not exist for them (README, "Who sees what"): every
action on it answers 404, as for an unknown id, before any rule of the service could answer 403.
So a gatekeeper gets 404 on a draft (no gate of theirs has opened on it), legal on the service
team's gate, and a gatekeeper on a feedback or an improvement item that does not concern them.
tests/api/test_visibility_matrix.py shows what each role sees.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import roles
from feedback.services import improvements as kvp
from feedback.services.intake import feedback_record
from feedback.services.targets import TargetInput
from notifications.user_settings import webhook_subscription_create
from tests.factories import UserFactory, catalogue_metric

from .scenarios import Scenario

PROMISE_BODY = {
    "title": "Hotline 24/7", "category": "{category}", "customer": "{customer}", "origin_department": "sales",
    "channel": "offer", "metric": "{availability}", "comparison": "gte", "target_value": "99.5", "unit": "%",
    "due_date": "2027-06-30",
}

FEEDBACK_BODY = {"kind": "complaint", "channel": "phone", "category": "{category}", "text": "Technician late"}
FEEDBACK_CSV = b"kind,channel,text,category\ncomplaint,phone,Technician late,on-site-service\n"
PLAN_BODY = {"owner": "{gk_own_id}", "priority": "high", "start_date": "2027-01-04", "due_date": "2027-03-31",
             "budget": "5000", "target_metric": "average wait (min)", "baseline_value": "2", "target_value": "1",
             "target_deadline": "2027-03-31"}

# method  path                                  body                          anon maker gk_own gk_other manager
MATRIX = [
    ("GET", "/api/schema/", None, 200, 200, 200, 200, 200),
    ("GET", "/api/docs/", None, 200, 200, 200, 200, 200),
    ("GET", "/api/me/", None, 401, 200, 200, 200, 200),
    ("DELETE", "/api/auth/token/", None, 401, 204, 204, 204, 204),
    ("GET", "/api/customers/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/customers/", {"name": "Neu GmbH"}, 401, 201, 403, 403, 201),
    ("GET", "/api/customers/{customer}/", None, 401, 200, 404, 404, 200),
    ("GET", "/api/categories/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/categories/{category}/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/promises/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/promises/", PROMISE_BODY, 401, 201, 403, 403, 201),
    ("GET", "/api/promises/{draft}/", None, 401, 200, 404, 404, 200),
    ("PATCH", "/api/promises/{draft}/", {"title": "Hotline 24/5"}, 401, 200, 404, 404, 200),
    ("DELETE", "/api/promises/{draft}/", None, 401, 204, 404, 404, 204),
    ("POST", "/api/promises/{draft}/submit/", {}, 401, 200, 404, 404, 200),
    ("POST", "/api/promises/{in_review}/withdraw/", {"comment": "Deal lost"}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{rework}/resubmit/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{approved}/commit/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{committed}/handover/", {}, 401, 200, 403, 403, 200),
    ("POST", "/api/promises/{in_delivery}/verify/", {"actual_value": "3.5"}, 401, 200, 200, 200, 200),
    ("GET", "/api/promises/{in_review}/trail/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/gates/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/gates/{open_gate}/", None, 401, 200, 200, 404, 200),
    ("POST", "/api/gates/{open_gate}/decide/", {"decision": "kill", "comment": "Not feasible"},
     401, 403, 200, 404, 403),
    ("POST", "/api/gates/{held_gate}/resume/", {}, 401, 403, 200, 404, 200),
    ("POST", "/api/gate-conditions/{condition}/meet/", {"note": "In stock"}, 401, 403, 200, 404, 200),
    ("GET", "/api/inbox/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/inbox/unread-count/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/inbox/read-all/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/webhooks/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/webhooks/", {"name": "Chat", "url": "https://chat.example.com/h"}, 401, 201, 201, 201, 201),
    # a webhook is its owner's (the maker's) alone: to anyone else it does not exist
    ("POST", "/api/webhooks/{webhook}/disable/", None, 401, 200, 404, 404, 404),
    ("POST", "/api/webhooks/{webhook}/enable/", None, 401, 200, 404, 404, 404),
    # the KVP loop: anyone in a team records feedback and proposes improvements; managers run the
    # board; the planned owner (here the service gatekeeper) starts, checks and reworks the item
    ("GET", "/api/categories/{category}/record/", None, 401, 200, 200, 200, 200),
    ("GET", "/api/feedback/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/feedback/", FEEDBACK_BODY, 401, 201, 201, 201, 201),
    ("GET", "/api/feedback/{feedback}/", None, 401, 200, 404, 404, 200),
    ("POST", "/api/feedback/import/", {"file": FEEDBACK_CSV}, 401, 201, 201, 201, 201),
    ("GET", "/api/improvements/", None, 401, 200, 200, 200, 200),
    ("POST", "/api/improvements/", {"title": "Spare parts on every van"}, 401, 201, 201, 201, 201),
    ("GET", "/api/improvements/{proposed}/", None, 401, 200, 404, 404, 200),
    ("POST", "/api/improvements/{proposed}/accept/", {}, 401, 403, 404, 404, 200),
    ("POST", "/api/improvements/{proposed}/reject/", {"comment": "No budget"}, 401, 403, 404, 404, 200),
    ("POST", "/api/improvements/{accepted}/abandon/", {"comment": "Superseded"}, 401, 403, 404, 404, 200),
    ("POST", "/api/improvements/{accepted}/plan/", PLAN_BODY, 401, 403, 404, 404, 200),
    ("POST", "/api/improvements/{planned}/start/", {}, 401, 403, 200, 404, 200),
    ("POST", "/api/improvements/{in_progress}/check/", {"measured_value": "1.2"}, 401, 403, 200, 404, 200),
    ("POST", "/api/improvements/{checking}/rework/", {"comment": "Not yet"}, 401, 403, 200, 404, 200),
    ("POST", "/api/improvements/{checking}/standardize/", {"guidance_text": "Check the van stock.",
                                                           "guidance_categories": ["{category}"]},
     401, 403, 403, 404, 200),
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
        "availability": lambda: catalogue_metric(category, "availability").pk,
        "draft": lambda: scenario.draft().pk, "in_review": lambda: scenario.in_review().pk,
        "rework": lambda: scenario.rework().pk, "approved": lambda: scenario.approved().pk,
        "committed": lambda: scenario.committed().pk, "in_delivery": lambda: scenario.in_delivery().pk,
        "open_gate": lambda: scenario.in_review().gate_reviews.get(state="open").pk,
        "held_gate": lambda: scenario.held_gate().pk, "condition": lambda: scenario.condition().pk,
        "webhook": lambda: webhook_subscription_create(
            user=scenario.seller, name="CRM", url="https://crm.example.com/hook").pk,
        "gk_own_id": lambda: scenario.service.pk,
        "feedback": lambda: feedback_record(user=scenario.seller, kind="praise", channel="email",
                                            category=category, text="Quick").pk,
        **{state: (lambda state=state: improvement_in(state, scenario).pk)
           for state in ("proposed", "accepted", "planned", "in_progress", "checking")},
    }
    if isinstance(template, dict):
        return {k: _resolve(v, scenario, category, customer) for k, v in template.items()}
    if isinstance(template, list):
        return [_resolve(v, scenario, category, customer) for v in template]
    if isinstance(template, str) and "{" in template:
        names = [part.split("}")[0] for part in template.split("{")[1:]]
        values = {name: builders[name]() for name in names}
        if template.startswith("{") and template.endswith("}") and len(names) == 1:
            return values[names[0]]
        return template.format(**values)
    return template


def improvement_in(state: str, scenario):
    """An improvement item walked to `state` through the KVP services by a manager."""
    manager = UserFactory(username="kvp-manager", teams=[roles.MANAGERS])
    item = kvp.improvement_propose(user=scenario.seller, title="Spare parts on every van")
    steps = [
        ("accepted", lambda: kvp.improvement_accept(item_id=item.pk, user=manager)),
        ("planned", lambda: kvp.improvement_plan(
            item_id=item.pk, user=manager, owner=scenario.service, priority="high",
            start_date=dt.date(2027, 1, 4), due_date=dt.date(2027, 3, 31), budget=Decimal("5000"),
            targets=[TargetInput(metric_name="average wait (min)", baseline=Decimal("2"),
                                 target_value=Decimal("1"), deadline=dt.date(2027, 3, 31))])),
        ("in_progress", lambda: kvp.improvement_start(item_id=item.pk, user=manager)),
        ("checking", lambda: kvp.improvement_check(item_id=item.pk, user=manager, measured_value=Decimal("1.1"))),
    ]
    for reached, step in steps:
        if state == "proposed":
            break
        step()
        if reached == state:
            break
    item.refresh_from_db()
    assert item.state == state
    return item


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_authorization_matrix(api, scenario, category, customer, method, path, body, role, expected):
    # given the state the row needs and a client of the role
    url = _resolve(path, scenario, category, customer)
    data = _resolve(body, scenario, category, customer)
    client = api(role)

    # when the role calls the endpoint
    if data and isinstance(data.get("file"), bytes):
        upload = SimpleUploadedFile("feedback.csv", data["file"], content_type="text/csv")
        response = client.post(url, data={"file": upload}, format="multipart")
    else:
        response = getattr(client, method.lower())(url, data=data, format="json")

    # then the status is the domain's answer, and an error always has the one error shape
    assert response.status_code == expected, (response.status_code, getattr(response, "data", None))
    if expected >= 400:
        assert set(response.json()) == {"error", "detail", "fields"}
