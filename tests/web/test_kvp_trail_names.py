"""The KVP item's history names people as the promise timeline does: by their full name, not by their
user name ("Monika Fischer", not "manager")."""

import pytest
from django.urls import reverse

from feedback.services import improvements as kvp
from tests.web.kvp_support import propose  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_the_item_history_names_the_actor_by_full_name(client, manager, propose, django_assert_max_num_queries):  # noqa: F811
    manager.first_name, manager.last_name = "Monika", "Fischer"
    manager.save()
    item = propose()
    kvp.improvement_accept(item_id=item.pk, user=manager, comment="Worth a pilot.")
    client.force_login(manager)
    with django_assert_max_num_queries(40):
        body = client.get(reverse("web:kvp-item", args=[item.pk])).content.decode()
    assert "Worth a pilot." in body
    history = body[body.index("Worth a pilot.") - 600:body.index("Worth a pilot.")]
    assert "Monika Fischer" in history and f"· {manager.get_username()}" not in history
