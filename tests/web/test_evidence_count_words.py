"""Too few verified promises to show figures: the sentence agrees with its number in both languages
("1 geprüftes Leistungsversprechen", "0 geprüfte Leistungsversprechen")."""

from decimal import Decimal

import pytest
from django.urls import reverse

from promises import services as ps
from tests.gate_flow import in_delivery

pytestmark = pytest.mark.django_db


def test_the_count_of_verified_promises_agrees_with_its_number(
        client, settings, seller, category, make_promise, service_user, legal_user, delivery_user, response_time,
        django_assert_max_num_queries):
    settings.EVIDENCE_MIN_PROMISES = 5
    client.force_login(seller)
    url = reverse("web:promise-new-evidence")
    query = {"category": category.pk, "metric": response_time.pk, "target_value": "4"}
    client.cookies["django_language"] = "de"
    assert "Erst 0 geprüfte Leistungsversprechen" in client.get(url, query).content.decode()
    # given one verified promise
    promise = in_delivery(make_promise, seller, service_user, legal_user, delivery_user)
    ps.promise_verify(promise_id=promise.pk, user=seller, actual_value=Decimal("3"))
    # then one reads in the singular, in German and in English
    with django_assert_max_num_queries(12):
        german = client.get(url, query).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(url, query).content.decode()
    assert "Erst 1 geprüftes Leistungsversprechen mit dieser Kennzahl" in german
    assert "Only 1 verified promise with this metric" in english
