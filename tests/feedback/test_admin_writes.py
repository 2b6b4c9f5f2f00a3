"""The KVP admin writes only through the services: what no service writes is read-only there."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from feedback.models import Feedback, Guidance, ImprovementItem
from feedback.services.guidance import guidance_publish
from feedback.services.intake import feedback_record


@pytest.fixture
def staff(manager):
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="feedback"))
    return manager


@pytest.mark.parametrize("model", [Feedback, Guidance, ImprovementItem])
def test_records_are_neither_changed_nor_deleted_in_the_admin(staff, model):
    request = RequestFactory().get("/")
    request.user = staff
    model_admin = site._registry[model]
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_delete_page_of_feedback_and_guidance_is_refused(staff, client, category):
    item = feedback_record(user=staff, kind="praise", channel="chat", category=category, text="ok")
    guidance, = guidance_publish(user=staff, category_ids=[category.pk], text="Check the roster.")
    client.force_login(staff)
    for url in (reverse("admin:feedback_feedback_delete", args=[item.pk]),
                reverse("admin:feedback_guidance_delete", args=[guidance.pk])):
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Feedback.objects.filter(pk=item.pk).exists() and Guidance.objects.filter(pk=guidance.pk).exists()


def test_retiring_guidance_in_the_admin_goes_through_the_service(staff, client, category, seller):
    guidance, = guidance_publish(user=staff, category_ids=[category.pk], text="Check the roster.")
    seller.is_staff = True
    seller.save(update_fields=["is_staff"])
    seller.user_permissions.add(*Permission.objects.filter(content_type__app_label="feedback"))
    client.force_login(seller)
    # a seller given the permissions has no guidance admin (the role's walls)
    response = client.post(reverse("admin:feedback_guidance_changelist"),
                            {"action": "retire_selected", "_selected_action": [guidance.pk]}, follow=True)
    assert response.status_code == 403
    guidance.refresh_from_db()
    assert guidance.retired_at is None
    client.force_login(staff)
    client.post(reverse("admin:feedback_guidance_changelist"),
                {"action": "retire_selected", "_selected_action": [guidance.pk]})
    guidance.refresh_from_db()
    assert guidance.retired_at is not None
