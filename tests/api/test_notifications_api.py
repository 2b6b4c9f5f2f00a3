"""A user's inbox and webhooks through the API: only their own, through the notifications services."""

from __future__ import annotations

import pytest

from notifications import services as notifications
from notifications.models import OutboxEvent
from promises import services as promises


@pytest.fixture
def inbox_of_service_team(make_promise, seller, service_user, django_capture_on_commit_callbacks):
    """Two submitted promises: the service team hears that its gates opened."""
    for _ in range(2):
        promises.promise_submit(promise_id=make_promise().pk, user=seller)
    with django_capture_on_commit_callbacks(execute=False):
        for event_id in OutboxEvent.objects.values_list("pk", flat=True):
            notifications.event_fan_out(event_id=event_id)
    return service_user


@pytest.mark.django_db
def test_inbox_lists_reads_and_counts_only_my_items(api, inbox_of_service_team, django_assert_max_num_queries):
    client = api("gk_own")
    unread = client.get("/api/inbox/unread-count/").json()["unread"]
    assert unread >= 2
    with django_assert_max_num_queries(4):
        items = client.get("/api/inbox/", {"unread": "true"}).json()
    assert items["count"] == unread
    first = items["results"][0]
    # reading one marks it, once
    read = client.post(f"/api/inbox/{first['id']}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert client.get("/api/inbox/unread-count/").json()["unread"] == unread - 1
    # someone else cannot read (or even see) my item
    assert api("gk_other").post(f"/api/inbox/{first['id']}/read/").status_code == 404
    assert all(i["id"] != first["id"] for i in api("gk_other").get("/api/inbox/").json()["results"])
    # and reading all leaves nothing unread
    assert client.post("/api/inbox/read-all/").json()["marked"] == unread - 1
    assert client.get("/api/inbox/unread-count/").json()["unread"] == 0


@pytest.mark.django_db
def test_webhooks_are_created_listed_switched_off_and_on_by_their_owner(api):
    client = api("maker")
    created = client.post("/api/webhooks/", {"name": "Team chat", "url": "https://chat.example.com/hook",
                                             "kinds": ["promise_approved", "promise_broken"]}, format="json")
    assert created.status_code == 201, created.content
    hook = created.json()
    assert len(hook["secret"]) >= 16  # shown once, to set up the receiver's signature check
    listed = client.get("/api/webhooks/").json()["results"]
    assert [h["name"] for h in listed] == ["Team chat"] and "secret" not in listed[0]
    assert client.post(f"/api/webhooks/{hook['id']}/disable/").json()["is_active"] is False
    assert client.post(f"/api/webhooks/{hook['id']}/enable/").json()["is_active"] is True
    # another user neither sees nor switches it
    assert api("manager").get("/api/webhooks/").json()["count"] == 0
    assert api("manager").post(f"/api/webhooks/{hook['id']}/disable/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    {"name": "x", "url": "ftp://example.com/hook"},
    {"name": "x", "url": "https://example.com/hook", "kinds": ["no_such_event"]},
    {"name": "", "url": "https://example.com/hook"},
    {"name": "x", "url": "https://example.com/hook", "secret": "short"},
])
def test_bad_webhooks_are_400(api, body):
    response = api("maker").post("/api/webhooks/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith("invalid")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://[::1]:6379/", "http://10.0.0.1/hook",
                                 "http://169.254.169.254/latest/meta-data/", "http://localhost:8000/hook"])
def test_a_webhook_into_an_internal_network_is_a_400_naming_the_rule(api, url):
    response = api("maker").post("/api/webhooks/", {"name": "CRM", "url": url}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["error"] == "webhook_internal_target" and "internal networks" in error["detail"]
    assert error["fields"] == {"url": "webhook_internal_target"}
    assert api("maker").get("/api/webhooks/").json()["count"] == 0
