"""Both promise searches (the header's and the feedback intake's pick-a-promise fragment) answer any text
with a list or a message, never a 500: NUL bytes, superscript digits that str.isdigit() takes for a number
but int() refuses, huge numbers."""

import pytest
from django.urls import reverse

from promises import services as ps

pytestmark = pytest.mark.django_db
HOSTILE = ["\x00\x00\x00", "ab\x00cd", "#²³", "²²", "9" * 60, "#" + "9" * 9, "١٢"]


@pytest.mark.parametrize("q", HOSTILE)
def test_the_feedback_promise_search_answers_hostile_text(client, service_user, q, django_assert_max_num_queries):
    client.force_login(service_user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("web:feedback-promise-search"), {"q": q})
    assert response.status_code == 200


@pytest.mark.parametrize("q", HOSTILE)
def test_the_header_search_answers_hostile_text(client, seller, q):
    client.force_login(seller)
    assert client.get(reverse("web:search"), {"q": q}).status_code == 200


def test_the_feedback_search_still_finds_a_promise_by_its_number_and_title_with_a_nul_typed(
        client, service_user, seller, make_promise):
    promise = ps.promise_submit(promise_id=make_promise(title="Hotline within 2 minutes").pk, user=seller)
    client.force_login(service_user)
    assert f'value="{promise.pk}"' in client.get(reverse("web:feedback-promise-search"),
                                                {"q": f"#{promise.pk}"}).content.decode()
    assert f'value="{promise.pk}"' in client.get(reverse("web:feedback-promise-search"),
                                                {"q": "hot\x00line"}).content.decode()
