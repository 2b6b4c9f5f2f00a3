"""The global search (`/search/?q=`): promise title, customer name and CRM reference, only what the
user may see, paginated, a bounded number of queries; bad input is a clear message, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core import roles
from promises.models import Customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def search(client, user, q, **params):
    client.force_login(user)
    response = client.get(reverse("web:search"), {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_search_finds_by_title_customer_and_crm_reference(client, make_promise, seller):
    by_title = make_promise(title="Hotline around the clock")
    acme = Customer.objects.create(name="Acme Maschinenbau AG", email="a@example.com")
    by_customer = make_promise(title="Spare parts", customer=acme)
    by_crm = make_promise(title="Migration", crm_reference="CRM-4711")
    assert reverse("web:promise-detail", args=[by_title.pk]) in search(client, seller, "hotline")
    assert reverse("web:promise-detail", args=[by_customer.pk]) in search(client, seller, "maschinenbau")
    body = search(client, seller, "crm-4711")
    assert reverse("web:promise-detail", args=[by_crm.pk]) in body
    assert reverse("web:promise-detail", args=[by_title.pk]) not in body
    assert 'value="crm-4711"' in body, "the header's search field keeps the query"


def test_search_shows_only_what_the_user_may_see(client, make_promise, seller):
    # given another department's draft (nobody but its owner sees a draft) and a promise of a
    # marketing colleague (a seller does not see marketing's promises)
    marketer = UserFactory(username="marketer", teams=[roles.MARKETING])
    hidden = make_promise(user=marketer, origin_department="marketing", title="Secret campaign")
    mine = make_promise(title="Secret hotline")
    body = search(client, seller, "secret")
    assert reverse("web:promise-detail", args=[mine.pk]) in body
    assert reverse("web:promise-detail", args=[hidden.pk]) not in body and "Secret campaign" not in body
    assert "1 promise found" in body


@pytest.mark.parametrize("q", ["", "   ", "x" * 10_000, "hot\x00line"])
def test_an_empty_or_absurd_query_is_a_clear_message(client, seller, q):
    body = search(client, seller, q)
    assert 'class="alert warn"' in body
    assert "<table" not in body


def test_an_absurd_page_number_shows_a_page(client, make_promise, seller):
    make_promise(title="Hotline")
    for page in ["999999999999999999999", "-1", "abc", "\x00"]:
        assert "Hotline" in search(client, seller, "hotline", page=page)


@pytest.mark.parametrize("n", [1, 45])
def test_search_is_paginated_with_a_bounded_number_of_queries(client, make_promise, seller, n,
                                                              django_assert_max_num_queries):
    for i in range(n):
        make_promise(title=f"Hotline {i}")
    client.force_login(seller)
    with django_assert_max_num_queries(10):
        body = client.get(reverse("web:search"), {"q": "hotline"}).content.decode()
    assert body.count('<tr>') == min(n, 20) + 1
    if n > 20:
        assert "Page 1 of 3" in body and "?q=hotline&amp;page=2" in body
        last = client.get(reverse("web:search"), {"q": "hotline", "page": 3}).content.decode()
        assert last.count('<tr>') == n - 40 + 1


def test_search_speaks_german(client, make_promise, seller):
    make_promise(title="Hotline")
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    body = client.get(reverse("web:search"), {"q": "hotline"}).content.decode()
    assert "1 Leistungsversprechen gefunden" in body
    empty = client.get(reverse("web:search"), {"q": ""}).content.decode()
    assert "Geben Sie ein Wort ein" in empty
