"""The promises admin: bounded change lists, change pages, and transitions that run the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from core import roles
from feedback.services.guidance import guidance_publish
from promises import services as ps
from promises.models import Customer, PromiseState, ServicePromise, TransitionLog
from qualitygates import services as gs
from tests.admin_support import (
    count_queries,
    drive_promises,
    form_data,
    make_staff,
    make_superuser,
    open_review,
)
from tests.factories import CustomerFactory, UserFactory, all_checks_met, catalogue_metric

User = get_user_model()

# Every list of the app: the number of queries must not grow with the number of rows.
CHANGELISTS = ["promises_customer", "promises_promisecategory", "promises_servicepromise",
               "promises_transitionlog"]
LIST_QUERY_BOUND = 12


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(name, admin_client, make_promise, seller, service_user,
                                                   django_assert_max_num_queries):
    url = reverse(f"admin:{name}_changelist")
    # Given two promises with gates, conditions, trail and events
    drive_promises(make_promise, seller=seller, service_user=service_user, count=2)
    CustomerFactory.create_batch(2)
    few = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    # When there are four times as many
    drive_promises(make_promise, seller=seller, service_user=service_user, count=6)
    CustomerFactory.create_batch(6)
    # Then the list costs the same number of queries
    many = count_queries(admin_client, url, assert_max=django_assert_max_num_queries, bound=LIST_QUERY_BOUND)
    assert many == few


def test_promise_change_page_shows_gates_and_trail_in_bounded_queries(
        admin_client, make_promise, seller, service_user, django_assert_max_num_queries):
    promise = drive_promises(make_promise, seller=seller, service_user=service_user, count=1)[0]
    url = reverse("admin:promises_servicepromise_change", args=[promise.pk])
    with django_assert_max_num_queries(25):
        response = admin_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Feasibility" in body and "Legal check" in body  # gate reviews inline
    assert "submit" in body and "in_review" in body  # the trail inline
    # Only the transitions of its state are offered: an in-review promise can be withdrawn, not committed
    assert reverse("admin:promises_servicepromise_transition", args=[promise.pk, "withdraw"]) in body
    assert reverse("admin:promises_servicepromise_transition", args=[promise.pk, "commit"]) not in body


@pytest.mark.parametrize("name", ["promises_customer", "promises_promisecategory"])
def test_reference_change_and_add_pages_load(name, admin_client, category, customer):
    obj = customer if name == "promises_customer" else category
    assert admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_add_promise_in_the_admin_records_a_draft_through_the_service(client, seller, category, customer):
    make_superuser(seller)
    client.force_login(seller)
    assert client.get(reverse("admin:promises_servicepromise_add")).status_code == 200
    response = client.post(reverse("admin:promises_servicepromise_add"), {
        "title": "Hotline answers within 60 seconds", "category": category.pk, "customer": customer.pk,
        "owner": seller.pk, "origin_department": "sales", "channel": "offer",
        "metric": catalogue_metric(category, "answer time").pk,
        "comparison": "lte", "target_value": "60", "due_date": "2027-06-30",
        "gate_reviews-TOTAL_FORMS": "0", "gate_reviews-INITIAL_FORMS": "0",
        "trail-TOTAL_FORMS": "0", "trail-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    promise = ServicePromise.objects.get(title="Hotline answers within 60 seconds")
    assert (promise.state, promise.owner, promise.target_value) == (PromiseState.DRAFT, seller, Decimal("60"))


def test_a_non_maker_cannot_record_a_promise_and_nothing_is_written(client, service_user, category, customer):
    # Given a gatekeeper who has the model permission but is no promise maker
    make_staff(service_user, "add_servicepromise", "view_servicepromise")
    client.force_login(service_user)
    response = client.post(reverse("admin:promises_servicepromise_add"), {
        "title": "Free data migration", "category": category.pk, "customer": customer.pk,
        "owner": service_user.pk, "origin_department": "presales", "channel": "offer",
        "metric": catalogue_metric(category, "cost").pk, "comparison": "eq", "target_value": "0",
        "due_date": "2027-06-30",
        "gate_reviews-TOTAL_FORMS": "0", "gate_reviews-INITIAL_FORMS": "0",
        "trail-TOTAL_FORMS": "0", "trail-INITIAL_FORMS": "0",
    }, follow=True)
    # Then the admin's walls refuse it (promises are no gatekeeper's admin), and no promise exists
    assert response.status_code == 403
    assert not ServicePromise.objects.exists()


def test_editing_a_draft_goes_through_promise_update(admin_client, make_promise):
    promise = make_promise()
    url = reverse("admin:promises_servicepromise_change", args=[promise.pk])
    data = form_data(admin_client.get(url).content.decode())
    data["title"] = ["Technician on site within 3 hours"]
    response = admin_client.post(url, data)
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.title == "Technician on site within 3 hours"


def test_a_submitted_promise_is_read_only_in_the_admin(admin_client, make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    response = admin_client.get(reverse("admin:promises_servicepromise_change", args=[promise.pk]))
    assert response.status_code == 200
    assert 'name="title"' not in response.content.decode()


def test_submit_button_runs_the_service_and_logs_the_admin_user(client, make_promise, seller):
    make_superuser(seller)
    client.force_login(seller)
    promise = make_promise()
    url = reverse("admin:promises_servicepromise_transition", args=[promise.pk, "submit"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"comment": "Customer is waiting"}, follow=True)
    assert response.status_code == 200
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW
    entry = TransitionLog.objects.get(promise=promise, action="submit")
    assert (entry.actor, entry.comment) == (seller, "Customer is waiting")
    assert open_review(promise).name == "Feasibility"


def test_an_illegal_transition_is_an_error_message_not_a_500(admin_client, make_promise):
    promise = make_promise()
    url = reverse("admin:promises_servicepromise_transition", args=[promise.pk, "commit"])
    response = admin_client.post(url, {"comment": ""})
    assert response.status_code == 200
    assert any("cannot commit" in m for m in messages_of(response))
    promise.refresh_from_db()
    assert promise.state == PromiseState.DRAFT
    assert not TransitionLog.objects.filter(promise=promise).exists()


def _in_delivery(make_promise, seller, service_user, legal_user, delivery_user):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    for user in (service_user, legal_user):
        review = open_review(promise)
        gs.gate_decide(review_id=review.pk, user=user, decision="go", checks=all_checks_met(review))
    ps.promise_commit(promise_id=promise.pk, user=seller)
    ps.promise_handover(promise_id=promise.pk, user=seller)
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=delivery_user, decision="go", checks=all_checks_met(review))
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_DELIVERY
    return promise


def test_verify_form_records_a_broken_promise_only_with_a_reason(
        admin_client, make_promise, seller, service_user, legal_user, delivery_user):
    promise = _in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    url = reverse("admin:promises_servicepromise_transition", args=[promise.pk, "verify"])
    # When the target was missed and no reason is given
    response = admin_client.post(url, {"actual_value": "6.5", "reason": ""})
    # Then the rule is shown and nothing changed
    assert response.status_code == 200
    assert any("needs the reason" in m for m in messages_of(response))
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_DELIVERY and promise.actual_value is None
    # And with a reason it is recorded as broken
    response = admin_client.post(url, {"actual_value": "6.5", "reason": "Technician stuck on the A9"})
    assert response.status_code == 302
    promise.refresh_from_db()
    assert (promise.state, promise.actual_value) == (PromiseState.BROKEN, Decimal("6.5"))


def test_verify_form_rejects_a_non_number_without_calling_anything(
        admin_client, make_promise, seller, service_user, legal_user, delivery_user):
    promise = _in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    url = reverse("admin:promises_servicepromise_transition", args=[promise.pk, "verify"])
    response = admin_client.post(url, {"actual_value": "soon", "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["actual_value"]
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_DELIVERY


def test_bulk_submit_reports_each_promise_and_keeps_the_successes(admin_client, make_promise, seller):
    drafts = [make_promise(title=f"Delivery in 10 working days #{i}") for i in range(2)]
    submitted = make_promise(title="Already submitted")
    ps.promise_submit(promise_id=submitted.pk, user=seller)
    response = admin_client.post(reverse("admin:promises_servicepromise_changelist"), {
        "action": "submit_selected", "_selected_action": [p.pk for p in [*drafts, submitted]],
    }, follow=True)
    assert response.status_code == 200
    texts = messages_of(response)
    assert any(t.startswith("Submitted: 2") for t in texts)
    assert any(t.startswith(f"#{submitted.pk}:") and "Only a draft can be submitted" in t for t in texts)
    assert set(ServicePromise.objects.filter(pk__in=[p.pk for p in drafts]).values_list("state", flat=True)) == {
        PromiseState.IN_REVIEW}


def test_bulk_withdraw_goes_through_the_service(admin_client, make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    admin_client.post(reverse("admin:promises_servicepromise_changelist"),
                      {"action": "withdraw_selected", "_selected_action": [promise.pk]})
    promise.refresh_from_db()
    assert promise.state == PromiseState.WITHDRAWN
    # The service cancelled the open gates as part of the withdrawal
    assert not promise.gate_reviews.filter(state__in=["open", "pending"]).exists()


def test_the_trail_is_read_only_in_the_admin(admin_client, make_promise, seller):
    promise = make_promise()
    ps.promise_submit(promise_id=promise.pk, user=seller)
    entry = TransitionLog.objects.filter(promise=promise).first()
    assert admin_client.get(reverse("admin:promises_transitionlog_add")).status_code == 403
    assert admin_client.get(reverse("admin:promises_transitionlog_delete", args=[entry.pk])).status_code == 403
    page = admin_client.get(reverse("admin:promises_transitionlog_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    before = TransitionLog.objects.count()
    admin_client.post(reverse("admin:promises_transitionlog_change", args=[entry.pk]), {"comment": "rewritten"})
    assert TransitionLog.objects.count() == before
    assert TransitionLog.objects.get(pk=entry.pk).comment == entry.comment


def test_only_drafts_can_be_deleted(admin_client, make_promise, seller):
    draft, submitted = make_promise(), make_promise()
    ps.promise_submit(promise_id=submitted.pk, user=seller)
    assert admin_client.get(reverse("admin:promises_servicepromise_delete", args=[submitted.pk])).status_code == 403
    response = admin_client.post(reverse("admin:promises_servicepromise_delete", args=[draft.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert list(ServicePromise.objects.values_list("pk", flat=True)) == [submitted.pk]


DELETE_PERMISSIONS = ("view_servicepromise", "change_servicepromise", "delete_servicepromise")


@pytest.fixture
def colleague(db):
    """Another sales maker, with the admin's delete permission on promises."""
    return make_staff(UserFactory(username="colleague", teams=[roles.SALES]), *DELETE_PERMISSIONS)


def test_the_admin_cannot_delete_another_makers_draft(client, make_promise, colleague):
    # Given a seller's draft and a colleague who may delete promises in the admin
    draft = make_promise()
    client.force_login(colleague)
    # When the colleague confirms its deletion
    response = client.post(reverse("admin:promises_servicepromise_delete", args=[draft.pk]), {"post": "yes"},
                           follow=True)
    # Then the admin's walls refuse it (a maker has no admin, whatever was granted), and the draft,
    # without a deletion logged, stays
    assert response.status_code == 403
    assert ServicePromise.objects.filter(pk=draft.pk).exists()
    assert not LogEntry.objects.filter(object_id=str(draft.pk), action_flag=DELETION).exists()


def test_the_bulk_delete_cannot_delete_another_makers_draft(client, make_promise, colleague):
    drafts = [make_promise(title=f"Delivery in 10 working days #{i}") for i in range(2)]
    client.force_login(colleague)
    changelist = reverse("admin:promises_servicepromise_changelist")
    selected = {"action": "delete_selected", "_selected_action": [p.pk for p in drafts]}
    # When the colleague confirms, the admin's walls refuse it
    assert client.post(changelist, {**selected, "post": "yes"}).status_code == 403
    assert ServicePromise.objects.count() == 2


def test_a_superuser_in_sales_deletes_only_through_promise_delete(client, make_promise, seller):
    # Given another maker's draft and a submitted one, and a superuser of the sales team
    draft, submitted = make_promise(), make_promise()
    ps.promise_submit(promise_id=submitted.pk, user=seller)
    user = make_superuser(UserFactory(username="sales-admin", teams=[roles.SALES]))
    client.force_login(user)
    # When both are deleted in bulk, promise_delete decides for each
    response = client.post(reverse("admin:promises_servicepromise_changelist"), {
        "action": "delete_selected", "_selected_action": [draft.pk, submitted.pk], "post": "yes"}, follow=True)
    texts = messages_of(response)
    assert any("Only a draft can be deleted" in t for t in texts)
    assert list(ServicePromise.objects.values_list("pk", flat=True)) == [submitted.pk]


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_the_owner_or_a_manager_deletes_a_draft_single_and_bulk(who, client, make_promise, seller, manager):
    user = make_superuser(seller if who == "owner" else manager)
    single, *bulk = [make_promise(title=f"Hotline answers within 60 seconds #{i}") for i in range(3)]
    client.force_login(user)
    response = client.post(reverse("admin:promises_servicepromise_delete", args=[single.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert LogEntry.objects.filter(object_id=str(single.pk), action_flag=DELETION, user=user).exists()
    response = client.post(reverse("admin:promises_servicepromise_changelist"), {
        "action": "delete_selected", "_selected_action": [p.pk for p in bulk], "post": "yes"}, follow=True)
    assert any(m.startswith("Deleted: 2") for m in messages_of(response))
    assert not ServicePromise.objects.exists()


def test_the_bulk_delete_keeps_submitted_promises(admin_client, make_promise, seller):
    draft, submitted = make_promise(), make_promise()
    ps.promise_submit(promise_id=submitted.pk, user=seller)
    response = admin_client.post(reverse("admin:promises_servicepromise_changelist"), {
        "action": "delete_selected", "_selected_action": [draft.pk, submitted.pk], "post": "yes"}, follow=True)
    texts = messages_of(response)
    assert any(t.startswith("Deleted: 1") for t in texts)
    assert any(t.startswith(f"#{submitted.pk}:") and "Only a draft can be deleted" in t for t in texts)
    assert list(ServicePromise.objects.values_list("pk", flat=True)) == [submitted.pk]


def test_a_customer_added_in_the_admin_is_recorded_through_the_service(client, service_user, admin_user):
    body = {"name": "Brandt Maschinenbau GmbH", "segment": "Industrie", "email": "", "language": "de",
            "crm_reference": ""}
    # Given a gatekeeper with the model permission: customers are no gatekeeper's admin
    make_staff(service_user, "add_customer", "view_customer", "change_customer")
    client.force_login(service_user)
    assert client.post(reverse("admin:promises_customer_add"), body).status_code == 403
    assert not Customer.objects.exists()
    # A superuser records one, through customer_create
    client.force_login(admin_user)
    assert client.post(reverse("admin:promises_customer_add"), body).status_code == 302
    assert Customer.objects.get().name == "Brandt Maschinenbau GmbH"


def test_submit_page_asks_for_the_categorys_guidance_and_passes_the_acknowledgement(
        admin_client, make_promise, manager, category):
    # Given a category with published guidance (a lesson from earlier promises)
    [guidance] = guidance_publish(user=manager, category_ids=[category.pk],
                                  text="Confirm spare-part stock before promising 4 h on-site response.")
    promise = make_promise()
    url = reverse("admin:promises_servicepromise_transition", args=[promise.pk, "submit"])
    page = admin_client.get(url)
    assert "Confirm spare-part stock" in page.content.decode()
    # When it is submitted without ticking the guidance, the rule is shown and nothing moves
    response = admin_client.post(url, {"comment": ""})
    assert response.status_code == 200
    assert any("must acknowledge" in m for m in messages_of(response))
    promise.refresh_from_db()
    assert promise.state == PromiseState.DRAFT
    # And with the guidance acknowledged it is submitted
    response = admin_client.post(url, {"comment": "", "guidance": [str(guidance.pk)]})
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.state == PromiseState.IN_REVIEW
    assert promise.guidance_acknowledgements.filter(guidance=guidance).exists()


def test_promise_change_page_queries_do_not_grow_with_rounds_and_trail(admin_client, make_promise, seller,
                                                                        service_user):
    # Given one promise submitted once, and one that went through two rework rounds
    short = make_promise()
    ps.promise_submit(promise_id=short.pk, user=seller)
    long = make_promise()
    ps.promise_submit(promise_id=long.pk, user=seller)
    for _round in range(2):
        review = open_review(long)
        gs.gate_decide(review_id=review.pk, user=service_user, decision="recycle", comment="Weekend cover missing",
                       checks=all_checks_met(review))
        ps.promise_resubmit(promise_id=long.pk, user=seller, comment="Weekend on-call added")
    assert long.gate_reviews.count() == 3 * short.gate_reviews.count()
    # Then both change pages cost the same number of queries
    few = count_queries(admin_client, reverse("admin:promises_servicepromise_change", args=[short.pk]))
    many = count_queries(admin_client, reverse("admin:promises_servicepromise_change", args=[long.pk]))
    assert many == few
