"""Webhooks never post into the company's own network: refused at creation (400 naming the rule)
and again before every send, after the name was resolved."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from notifications.delivery import delivery_send
from notifications.models import Channel, Delivery, DeliveryState, EventKind
from notifications.user_settings import webhook_subscription_create
from notifications.webhook_targets import TargetRefused, target_parse, target_resolve
from promises import services as ps
from qualitygates import services as gs
from tests.factories import all_checks_met
from tests.outbox_support import drain

INTERNAL_TARGETS = [
    ("http://127.0.0.1:5432/", "loopback"),
    ("http://[::1]:6379/", "loopback"),
    ("http://10.0.0.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://localhost:8000/hook", "loopback"),  # a name that resolves to loopback
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4-mapped IPv6
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://192.168.1.20/", "private"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "reserved"),  # shared address space (carrier-grade NAT)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "kind"), INTERNAL_TARGETS)
def test_a_webhook_into_an_internal_network_is_refused_at_creation(seller, url, kind):
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(user=seller, name="CRM", url=url)
    assert refused.value.code == "webhook_internal_target" and f"is a {kind} address" in refused.value.message
    assert refused.value.fields == {"url": "webhook_internal_target"}
    assert not seller.webhook_subscriptions.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "code"), [
    ("ftp://example.com/hook", "invalid_url"),
    ("file:///etc/passwd", "invalid_url"),
    ("https://user:secret@example.com/hook", "webhook_url_userinfo"),
])
def test_other_schemes_and_credentials_in_the_url_are_refused(seller, url, code):
    with pytest.raises(ValidationFailed) as refused:
        webhook_subscription_create(user=seller, name="x", url=url)
    assert refused.value.code == code


@pytest.mark.django_db
def test_an_operator_allow_lists_an_internal_host(seller, settings):
    settings.NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    hook = webhook_subscription_create(user=seller, name="Intranet CRM", url="http://localhost:8080/hook")
    assert hook.pk
    # the allow-list names hosts, not networks: another internal address is still refused
    with pytest.raises(ValidationFailed, match="loopback"):
        webhook_subscription_create(user=seller, name="x", url="http://127.0.0.1:8080/hook")


def test_every_resolved_address_is_checked_and_a_public_one_passes():
    target = target_parse("https://93.184.215.14/hook?x=1")
    assert (target.host, target.port, target.path) == ("93.184.215.14", 443, "/hook?x=1")
    assert [str(a) for a in target_resolve(target)] == ["93.184.215.14"]
    with pytest.raises(TargetRefused, match="loopback"):
        target_resolve(target_parse("http://2130706433/"))  # 127.0.0.1 written as one number


@pytest.fixture
def submitted(make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    drain()  # the gate-opened notices of the submission are not what these tests look at
    return promise


def _decide_with_webhook(submitted, service_user, seller, url):
    webhook_subscription_create(user=seller, name="chat", url=url, kinds=[EventKind.GATE_DECIDED])
    review = submitted.gate_reviews.get(state="open")
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    return Delivery.objects.get(channel=Channel.WEBHOOK)


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_stored_url_that_now_resolves_internally_fails_permanently_at_send_time(
        submitted, service_user, seller, receiver, settings, host):
    # given a webhook created while its host was allow-listed, and the operator then removed it
    url = receiver.url.replace("127.0.0.1", host)
    settings.NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = [host]
    webhook_subscription_create(user=seller, name="chat", url=url, kinds=[EventKind.GATE_DECIDED])
    settings.NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = []
    # when the gate is decided and the worker sends
    review = submitted.gate_reviews.get(state="open")
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))
    drain()
    # then the webhook was refused before any request, for good, with the rule named
    delivery = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 1
    assert delivery.last_error.startswith("webhook_internal_target:") and "loopback" in delivery.last_error
    assert receiver.requests == []
    assert delivery_send(delivery_id=delivery.pk) == "done"


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_the_answer_is_not_echoed(submitted, service_user, seller, receiver):
    receiver.statuses = [302]
    delivery = _decide_with_webhook(submitted, service_user, seller, receiver.url)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_error == "RuntimeError: Webhook answered HTTP 302 (redirects are not followed)"
    assert len(receiver.requests) == 1  # and the receiver's answer ("ok") is not in the error
