"""A promise made to a segment (no customer) is found by the search like any other: its row shows the
segment and a dash for the CRM reference instead of failing the whole page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_search_lists_a_segment_promise_without_a_customer(client, make_promise, seller,
                                                            django_assert_max_num_queries):
    # given a marketing promise made to a segment, and one to a customer
    segment = make_promise(title="Answer within a day for small businesses", customer=None,
                           customer_segment="Small businesses", channel="campaign")
    make_promise(title="Answer within a day for Acme")
    client.force_login(seller)
    # when the seller searches for both
    with django_assert_max_num_queries(12):
        response = client.get(reverse("web:search"), {"q": "answer within"})
    # then both are listed, the segment's row naming the segment
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("web:promise-detail", args=[segment.pk]) in body and "Small businesses" in body
    assert "2 promises found" in body
