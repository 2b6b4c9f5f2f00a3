"""The KVP admin: thin pages over the services — import upload, PDCA buttons, the dashboard."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from feedback.models import Feedback, ImprovementItem
from promises.models import Metric


@pytest.fixture
def staff_manager(manager, client):
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="feedback"))
    client.force_login(manager)
    return manager


def test_import_upload_all_or_nothing(staff_manager, client, category):
    url = reverse("admin:feedback_feedback_import")
    bad = SimpleUploadedFile("x.csv", b"kind,channel,text,category\ncomplaint,phone,ok,on-site-service\n"
                                      b"complaint,phone,x,unknown-cat\n")
    response = client.post(url, {"file": bad})
    assert response.status_code == 200
    assert "line 3" in response.content.decode() and "unknown category" in response.content.decode()
    assert not Feedback.objects.exists()

    latin = SimpleUploadedFile("x.csv", "kind,channel,text,category\ncomplaint,phone,spät,on-site-service\n"
                               .encode("latin-1"))
    response = client.post(url, {"file": latin})
    assert response.status_code == 200 and "not UTF-8" in response.content.decode()

    good = SimpleUploadedFile("x.csv", b"kind,channel,text,category\ncomplaint,phone,ok,on-site-service\n")
    response = client.post(url, {"file": good})
    assert response.status_code == 302
    assert Feedback.objects.count() == 1


def test_record_feedback_form_shows_rule_errors(staff_manager, client, category):
    url = reverse("admin:feedback_feedback_add")
    response = client.post(url, {"kind": "complaint", "channel": "phone", "severity": "high", "csat_score": "9",
                                 "category": category.pk, "text": "late"})
    assert response.status_code == 200 and "less than or equal to 5" in response.content.decode()
    response = client.post(url, {"kind": "complaint", "channel": "phone", "severity": "high", "promise": "987654",
                                 "text": "late"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(url, {"kind": "complaint", "channel": "phone", "severity": "high", "text": "late"})
    assert response.status_code == 200 and "linked to a promise or" in response.content.decode()
    assert not Feedback.objects.exists()
    response = client.post(url, {"kind": "complaint", "channel": "phone", "severity": "high", "csat_score": "2",
                                 "category": category.pk, "text": "late"})
    assert response.status_code == 302 and Feedback.objects.get().csat_score == 2


def test_propose_accept_and_plan_through_the_buttons(staff_manager, client, category):
    wait = Metric.objects.create(name="wait", unit="min", direction="lower", kind="count")
    response = client.post(reverse("admin:feedback_improvementitem_add"),
                           {"title": "Roster check", "categories": [category.pk], "feedback": ""})
    assert response.status_code == 302
    item = ImprovementItem.objects.get()
    page = client.get(reverse("admin:feedback_improvementitem_change", args=[item.pk])).content.decode()
    assert reverse("admin:feedback_improvementitem_transition", args=[item.pk, "accept"]) in page

    client.post(reverse("admin:feedback_improvementitem_transition", args=[item.pk, "accept"]), {"comment": ""})
    item.refresh_from_db()
    assert item.state == "accepted"
    response = client.post(reverse("admin:feedback_improvementitem_transition", args=[item.pk, "plan"]), {
        "owner": staff_manager.pk, "priority": "high", "start_date": "2026-03-01", "due_date": "2026-02-01",
        "budget": "100", "metric": wait.pk, "measure": "manual", "baseline": "2", "target_value": "1",
        "deadline": "2026-06-30", "window_days": "90"})
    assert response.status_code == 200 and "must not lie before the start" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "accepted"


def test_dashboard_is_for_managers(staff_manager, client, seller, outcome, django_assert_max_num_queries):
    outcome(kept=False)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("admin:feedback_dashboard"))
    assert response.status_code == 200
    assert "Feasibility" in response.content.decode()
    seller.is_staff = True
    seller.save(update_fields=["is_staff"])
    client.force_login(seller)
    assert client.get(reverse("admin:feedback_dashboard")).status_code == 403


def test_the_submit_page_shows_the_category_record_and_guidance(staff_manager, client, outcome, make_promise,
                                                                 seller):
    from feedback.services.guidance import guidance_publish

    outcome(kept=False, reason="no technician free")
    guidance_publish(user=staff_manager, category_ids=[make_promise().category_id], text="Check the roster.")
    draft = make_promise()
    # promises are a superuser's in the admin (the manager's walls keep them out)
    staff_manager.is_superuser = True
    staff_manager.save(update_fields=["is_superuser"])
    page = client.get(reverse("admin:promises_servicepromise_transition", args=[draft.pk, "submit"])).content.decode()
    assert "0 kept, 1 broken" in page and "no technician free (1)" in page
    assert "Check the roster." in page
