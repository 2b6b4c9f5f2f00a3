"""The customer's clock: an interim notice to a customer whose committed promise has been silent
too long, recorded in the promise's customer timeline and shown on the status page."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from promises import clock as promise_clock
from promises import services as ps
from promises.models import CustomerNotice, PromiseState, ServicePromise
from qualitygates import services as gs
from tests.clock_support import at, open_review
from tests.factories import all_checks_met
from tests.outbox_support import drain


def commit(promise, seller, service_user, legal_user):
    ps.promise_submit(promise_id=promise.pk, user=seller)
    for user in (service_user, legal_user):
        review = open_review(promise)
        gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review))
    ps.promise_commit(promise_id=promise.pk, user=seller)
    promise.refresh_from_db()
    return promise


def test_interim_notice_after_silent_days(wall_clock, client, make_promise, seller, service_user, legal_user, customer,
                                          django_assert_max_num_queries):
    # given a promise committed on Friday (interim notice after 5 days by default)
    promise = commit(make_promise(), seller, service_user, legal_user)
    assert promise.state == PromiseState.COMMITTED and promise.customer_visible_at == wall_clock.now
    in_review = make_promise(title="Another promise")
    ps.promise_submit(promise_id=in_review.pk, user=seller)
    committed_at = wall_clock.now
    assert promise_clock.interim_notices_send(now=committed_at + dt.timedelta(days=4, hours=23)) == 0
    with django_assert_max_num_queries(2):
        assert promise_clock.promise_ids_needing_interim_notice(now=committed_at + dt.timedelta(days=6)) == [promise.pk]
    # when five days pass without a visible update, the customer gets one notice with the status link
    first = committed_at + dt.timedelta(days=5, minutes=1)
    mail.outbox.clear()
    assert promise_clock.interim_notices_send(now=first) == 1
    assert promise_clock.interim_notices_send(now=first + dt.timedelta(hours=1)) == 0
    drain()
    notice = CustomerNotice.objects.get()
    promise.refresh_from_db()
    assert (notice.promise, notice.email, promise.customer_visible_at) == (promise, customer.email, first)
    [email] = [m for m in mail.outbox if m.to == [customer.email]]
    assert email.subject == f"Zwischenbescheid zu Ihrem Leistungsversprechen: {promise.title}"  # the customer speaks German
    assert f"http://127.0.0.1:8000/status/{promise.status_token}/" in email.body
    # signed by the company, with how to reach a person there (settings COMPANY_*)
    assert "Ihr Serviceteam von Example Service GmbH" in email.body
    assert "Telefon: +49 30 1234567" in email.body and "E-Mail: service@example.com" in email.body
    # and another five silent days later, a second one
    assert promise_clock.interim_notices_send(now=first + dt.timedelta(days=5, minutes=1)) == 1
    assert CustomerNotice.objects.filter(promise=promise).count() == 2
    # the status page shows the notices sent
    page = client.get(f"/status/{promise.status_token}/?lang=en")
    assert page.status_code == 200
    assert page.content.decode().count("Interim notice</strong>") == 2
    assert page.content.decode().count("We wrote to you that we are still working on your promise.") == 2


def test_interim_notice_while_on_hold_after_commitment(wall_clock, make_promise, seller, service_user, legal_user,
                                                       delivery_user):
    promise = commit(make_promise(), seller, service_user, legal_user)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    wall_clock.now = at(2027, 3, 8, 9, 0)
    gs.gate_decide(review_id=review.pk, user=delivery_user, decision="hold", comment="Waiting for parts")
    promise.refresh_from_db()
    assert promise.state == PromiseState.ON_HOLD and promise.customer_visible_at == wall_clock.now
    assert promise_clock.interim_notices_send(now=wall_clock.now + dt.timedelta(days=5, minutes=1)) == 1
    assert ServicePromise.objects.get(pk=promise.pk).customer_notices.count() == 1


def test_no_interim_notice_without_a_customer_email(wall_clock, make_promise, seller, service_user, legal_user):
    from tests.factories import CustomerFactory

    silent = commit(make_promise(customer=CustomerFactory(email="")), seller, service_user, legal_user)
    assert promise_clock.interim_notices_send(now=wall_clock.now + dt.timedelta(days=30)) == 0
    assert not silent.customer_notices.exists()


def test_next_customer_update_follows_the_last_visible_one(wall_clock, make_promise, seller, service_user, legal_user):
    draft = make_promise(title="Not yet promised")
    assert promise_clock.next_customer_update(draft) is None  # nobody waits for news of a draft
    promise = commit(make_promise(), seller, service_user, legal_user)
    assert promise_clock.next_customer_update(promise) == wall_clock.now + dt.timedelta(days=5)
    promise_clock.interim_notices_send(now=wall_clock.now + dt.timedelta(days=5, minutes=1))
    promise.refresh_from_db()
    assert promise_clock.next_customer_update(promise) == wall_clock.now + dt.timedelta(days=10, minutes=1)
    assert [n.email for n in promise_clock.customer_notices_for_promise(promise_id=promise.pk)] == [
        promise.customer.email]


def test_customer_notices_are_listed_read_only_in_the_promises_admin(
        wall_clock, client, make_promise, seller, service_user, legal_user):
    promise = commit(make_promise(), seller, service_user, legal_user)
    promise_clock.interim_notices_send(now=wall_clock.now + dt.timedelta(days=5, minutes=1))
    notice = CustomerNotice.objects.get()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    listed = client.get(reverse("admin:promises_customernotice_changelist"))
    assert listed.status_code == 200 and promise.customer.email in listed.content.decode()
    assert client.get(reverse("admin:promises_customernotice_add")).status_code == 403
    assert client.get(reverse("admin:promises_customernotice_delete", args=[notice.pk])).status_code == 403
