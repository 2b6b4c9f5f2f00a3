"""A customer contact's personal data (GDPR art. 15 and 17): managers export everything stored about
it and erase it by pseudonymisation wherever it was copied; promises, gates and statistics stay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from rest_framework.test import APIClient

from core.errors import CommonErrorCode, Conflict, NotAllowed
from feedback.models import Feedback, FeedbackChannel, FeedbackKind
from feedback.services.intake import feedback_record, feedback_record_customer_rating
from notifications.models import Delivery, OutboxEvent
from promises import clock as promise_clock
from promises import services as ps
from promises.models import CustomerNotice, PersonalDataLog, ServicePromise
from promises.personal_data import customer_personal_data_erase, customer_personal_data_export
from qualitygates.models import GateReview
from tests.admin_support import make_staff
from tests.factories import CustomerFactory
from tests.gate_flow import in_delivery
from tests.outbox_support import drain

ADDRESS = "Jane.Doe@kunde.example"
NAME = "Jane Doe Consulting"


@pytest.fixture
def customer(db):
    """The contact whose data is exported and erased (make_promise makes its promises to it)."""
    return CustomerFactory(name=NAME, email=ADDRESS, crm_reference="CRM-JD-4711")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(name="Another Customer AG", email="someone@other.example")


@pytest.fixture
def seeded(make_promise, seller, service_user, legal_user, delivery_user, customer, other_customer):
    """A verified promise with an interim notice, its e-mail deliveries, staff feedback quoting the
    address, the customer's own rating, and another customer's promise and notice."""
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    other = make_promise(title="Another customer's promise", customer=other_customer)
    for user in (seller,):
        ps.promise_submit(promise_id=other.pk, user=user)
    # an interim notice (a customer notice, an outbox event, an e-mail delivery to the address)
    later = promise.customer_visible_at + dt.timedelta(days=6)
    assert promise_clock.interim_notices_send(now=later) == 1
    drain()
    assert any(m.to == [ADDRESS] for m in mail.outbox)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))
    promise.refresh_from_db()
    feedback_record(user=seller, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.EMAIL, promise=promise,
                    text=f"Mail from {ADDRESS.lower()} ({NAME}): the technician was late.")
    feedback_record(user=seller, kind=FeedbackKind.SUGGESTION, channel=FeedbackChannel.PHONE,
                    category=promise.category, customer=other_customer,
                    text=f"They know {ADDRESS} from a trade fair.")
    feedback_record_customer_rating(status_token=promise.status_token, kept_as_seen=True, csat_score=5,
                                    text=f"Thanks! Reply to {ADDRESS} please.")
    drain()
    return promise


def text_columns():
    """Every text, char (e-mail, slug, …) and JSON column of every model of the project."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def rows_holding(text: str) -> list[str]:
    return [f"{model._meta.label}.{field.name}" for model, field in text_columns()
            if model._base_manager.filter(**{f"{field.name}__icontains": text}).exists()]


def statistics() -> dict:
    return {
        "promises": list(ServicePromise.objects.order_by("pk").values_list("pk", "state", "actual_value")),
        "gates": list(GateReview.objects.order_by("pk").values_list("pk", "state", "decision")),
        "feedback": list(Feedback.objects.order_by("pk").values_list("pk", "kind", "csat_score", "source")),
        "events": OutboxEvent.objects.count(), "deliveries": Delivery.objects.count(),
        "notices": CustomerNotice.objects.count(),
    }


# --- erasure --------------------------------------------------------------------------------------

def test_erasure_leaves_no_copy_of_the_contacts_email_in_any_table(seeded, customer, manager):
    # given the address is held in several tables
    assert {"promises.Customer.email", "promises.CustomerNotice.email", "notifications.Delivery.address",
            "notifications.OutboxEvent.recipients", "feedback.Feedback.text"} <= set(rows_holding(ADDRESS))
    before = statistics()
    # when a manager erases the contact
    changed = customer_personal_data_erase(customer_id=customer.pk, user=manager)
    # then no column of any model holds the address or the name any more
    assert rows_holding(ADDRESS) == []
    assert rows_holding(NAME) == []
    assert rows_holding("CRM-JD-4711") == []
    # and the promises, gates, feedback and delivery records stay as they were
    assert statistics() == before
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.crm_reference) == (f"erased-customer-{customer.pk}", "", "")
    assert customer.erased_at is not None
    assert changed["customer_notices"] == 1 and changed["feedback"] == 3 and changed["deliveries"] >= 1


def test_erasure_leaves_other_customers_alone(seeded, customer, other_customer, manager):
    other_rows = rows_holding("someone@other.example")
    customer_personal_data_erase(customer_id=customer.pk, user=manager)
    other_customer.refresh_from_db()
    assert (other_customer.name, other_customer.email) == ("Another Customer AG", "someone@other.example")
    assert rows_holding("someone@other.example") == other_rows


def test_erasure_stops_what_was_still_to_be_sent_and_future_notices(seeded, customer, manager):
    customer_personal_data_erase(customer_id=customer.pk, user=manager)
    # nobody writes to the contact any more: it has no address the clock could use
    assert promise_clock.promise_ids_needing_interim_notice(now=seeded.customer_visible_at + dt.timedelta(days=60)) == []


def test_erasure_and_export_are_for_managers_and_logged(seeded, customer, seller, manager):
    for service in (customer_personal_data_export, customer_personal_data_erase):
        with pytest.raises(NotAllowed) as refused:
            service(customer_id=customer.pk, user=seller)
        assert refused.value.code == CommonErrorCode.NOT_MANAGER
    assert not PersonalDataLog.objects.exists()
    at = dt.datetime(2027, 5, 3, 10, 0, tzinfo=dt.UTC)
    customer_personal_data_export(customer_id=customer.pk, user=manager, now=at)
    customer_personal_data_erase(customer_id=customer.pk, user=manager, now=at + dt.timedelta(hours=1))
    log = list(PersonalDataLog.objects.values_list("action", "actor__username", "customer_id", "at"))
    assert log == [("export", "manager", customer.pk, at), ("erase", "manager", customer.pk, at + dt.timedelta(hours=1))]
    # a second erasure has nothing left to erase
    with pytest.raises(Conflict) as again:
        customer_personal_data_erase(customer_id=customer.pk, user=manager)
    assert again.value.code == "already_erased"
    # the log is append-only
    with pytest.raises(PermissionError):
        PersonalDataLog.objects.update(counts={})


# --- export ---------------------------------------------------------------------------------------

def test_export_holds_everything_stored_about_the_contact(seeded, customer, other_customer, manager,
                                                         django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        data = customer_personal_data_export(customer_id=customer.pk, user=manager)
    assert data["customer"]["email"] == ADDRESS and data["customer"]["crm_reference"] == "CRM-JD-4711"
    assert [p["id"] for p in data["promises"]] == [seeded.pk]
    assert [n["email"] for n in data["customer_notices"]] == [ADDRESS]
    assert {d["address"] for d in data["deliveries"]} == {ADDRESS}
    assert "interim_notice_due" in {e["kind"] for e in data["outbox_events"]}
    assert [r["csat_score"] for r in data["ratings"]] == [5]
    # staff feedback on its promise, and another's feedback quoting its address
    assert len(data["feedback"]) == 2
    assert "Another Customer AG" not in str(data) and "someone@other.example" not in str(data)


# --- the API and the admin ------------------------------------------------------------------------

def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_export_and_erase_through_the_api(seeded, customer, seller, manager):
    assert api_as(seller).get(f"/api/customers/{customer.pk}/export/").status_code in (403, 404)
    assert api_as(seller).post(f"/api/customers/{customer.pk}/erase/", {}, format="json").status_code in (403, 404)
    exported = api_as(manager).get(f"/api/customers/{customer.pk}/export/")
    assert exported.status_code == 200 and exported.json()["customer"]["email"] == ADDRESS
    erased = api_as(manager).post(f"/api/customers/{customer.pk}/erase/", {}, format="json")
    assert erased.status_code == 200
    body = erased.json()
    assert body["customer"]["email"] == "" and body["customer"]["erased_at"]
    assert body["changed"]["customer_notices"] == 1
    again = api_as(manager).post(f"/api/customers/{customer.pk}/erase/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"] == "already_erased"
    assert api_as(manager).get("/api/customers/999999/export/").status_code == 404


def test_admin_actions_for_managers_only(client, seeded, customer, seller, manager):
    changelist = "/admin/promises/customer/"
    make_staff(seller, "view_customer", "change_customer")
    client.force_login(seller)
    page = client.get(changelist).content.decode()
    assert "erase_personal_data" not in page and "export_personal_data" not in page
    make_staff(manager, "view_customer", "change_customer")
    client.force_login(manager)
    assert "erase_personal_data" in client.get(changelist).content.decode()
    export = client.post(changelist, {"action": "export_personal_data", "_selected_action": [customer.pk]})
    assert export["Content-Disposition"].startswith("attachment") and export.json()["customer"]["email"] == ADDRESS
    confirm = client.post(changelist, {"action": "erase_personal_data", "_selected_action": [customer.pk]})
    assert confirm.status_code == 200 and not PersonalDataLog.objects.filter(action="erase").exists()
    client.post(changelist, {"action": "erase_personal_data", "_selected_action": [customer.pk], "post": "yes"})
    customer.refresh_from_db()
    assert customer.erased_at is not None and rows_holding(ADDRESS) == []
