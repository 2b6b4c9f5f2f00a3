"""The notifications admin: bounded lists of events and deliveries, read-only rows, and the manual
retry that goes through the notification service."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from core import roles
from core.errors import NotAllowed
from notifications import services as ns
from notifications import user_settings
from notifications.delivery import delivery_retry
from notifications.models import Delivery, DeliveryState, InboxItem, OutboxEvent, WebhookSubscription
from tests.admin_support import count_queries, drive_promises, make_staff
from tests.factories import UserFactory

User = get_user_model()
CHANGELISTS = ["outboxevent", "delivery", "inboxitem", "webhooksubscription",
               "notificationprofile", "channelpreference"]
LIST_QUERY_BOUND = 12


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def fan_out_all() -> None:
    """What the workers do after commit: every event gets its deliveries (inbox ones done at once)."""
    for event_id in OutboxEvent.objects.filter(fanned_out_at__isnull=True).values_list("pk", flat=True):
        ns.event_fan_out(event_id=event_id)


def drive(make_promise, seller, service_user, count: int) -> None:
    drive_promises(make_promise, seller=seller, service_user=service_user, count=count)
    user_settings.webhook_subscription_create(user=service_user, name=f"Teams channel {count}",
                                   url=f"https://chat.example.com/hook/{count}")
    fan_out_all()


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(model, admin_client, make_promise, seller, service_user,
                                                   django_assert_max_num_queries):
    url = reverse(f"admin:notifications_{model}_changelist")
    drive(make_promise, seller, service_user, 2)
    few = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    drive(make_promise, seller, service_user, 6)
    many = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    assert many == few


def test_event_page_shows_its_deliveries(admin_client, make_promise, seller, service_user,
                                         django_assert_max_num_queries):
    drive(make_promise, seller, service_user, 1)
    event = OutboxEvent.objects.filter(deliveries__isnull=False).first()
    with django_assert_max_num_queries(25):
        response = admin_client.get(reverse("admin:notifications_outboxevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.get(reverse("admin:notifications_outboxevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:notifications_outboxevent_delete", args=[event.pk])).status_code == 403
    assert InboxItem.objects.exists()


def test_retry_goes_through_the_service_and_its_rules(client, make_promise, seller, service_user):
    drive(make_promise, seller, service_user, 1)
    delivery = Delivery.objects.exclude(state=DeliveryState.FAILED).first()
    url = reverse("admin:notifications_delivery_changelist")
    # A gatekeeper given the permission still has no deliveries in the admin (the role's walls), and
    # the service refuses them too: only a manager or an operator sends again
    make_staff(service_user, "view_delivery")
    client.force_login(service_user)
    assert client.post(url, {"action": "send_again", "_selected_action": [delivery.pk]}).status_code == 403
    with pytest.raises(NotAllowed, match="Only a manager or an operator"):
        delivery_retry(delivery_id=delivery.pk, user=service_user)
    # An operator is told that only a failed delivery is sent again; nothing changes
    operator = make_staff(UserFactory(username="operator", teams=[roles.OPERATORS]), "view_delivery")
    client.force_login(operator)
    state = delivery.state
    response = client.post(url, {"action": "send_again", "_selected_action": [delivery.pk]}, follow=True)
    assert response.status_code == 200
    assert any("Only a failed delivery" in str(m) for m in get_messages(response.wsgi_request))
    delivery.refresh_from_db()
    assert delivery.state == state


def test_a_webhook_is_added_through_the_service(admin_client):
    response = admin_client.post(reverse("admin:notifications_webhooksubscription_add"),
                                 {"name": "CRM", "url": "https://crm.example.com/hooks/sqg",
                                  "kinds": ["promise_broken", "promise_closed"]})
    assert response.status_code == 302
    hook = WebhookSubscription.objects.get()
    assert (hook.user.username, hook.kinds, hook.is_active) == ("root", ["promise_broken", "promise_closed"], True)
    assert len(hook.secret) >= 32  # the service's generated signing secret


def test_a_webhook_secret_is_shown_once_at_creation_and_never_again(admin_client):
    # given a webhook added in the admin: the message after saving shows its secret, once
    response = admin_client.post(reverse("admin:notifications_webhooksubscription_add"),
                                 {"name": "CRM", "url": "https://crm.example.com/hooks/sqg"}, follow=True)
    hook = WebhookSubscription.objects.get()
    assert any(hook.secret in str(m) for m in get_messages(response.wsgi_request))

    # then neither the change page nor the list shows it again
    for url in (reverse("admin:notifications_webhooksubscription_change", args=[hook.pk]),
                reverse("admin:notifications_webhooksubscription_changelist")):
        page = admin_client.get(url)
        assert page.status_code == 200 and hook.secret not in page.content.decode()

    # and a rotation gives a new secret, shown once, that signing uses from now on
    old = hook.secret
    response = admin_client.post(reverse("admin:notifications_webhooksubscription_changelist"),
                                 {"action": "rotate_secret_selected", "_selected_action": [hook.pk]}, follow=True)
    hook.refresh_from_db()
    assert hook.secret != old
    assert any(hook.secret in str(m) for m in get_messages(response.wsgi_request))
    assert hook.secret not in admin_client.get(
        reverse("admin:notifications_webhooksubscription_change", args=[hook.pk])).content.decode()


def test_a_webhook_secret_is_not_readable_through_the_api_after_creation(seller):
    from tests.api.conftest import token_client

    client = token_client(seller)
    created = client.post("/api/webhooks/", {"name": "Chat", "url": "https://chat.example.com/h"}, format="json")
    secret = created.json()["secret"]
    assert len(secret) >= 32
    listed = client.get("/api/webhooks/").content.decode()
    assert secret not in listed
    rotated = user_settings.webhook_subscription_rotate_secret(subscription_id=created.json()["id"], user=seller)
    assert rotated != secret and WebhookSubscription.objects.get().secret == rotated
