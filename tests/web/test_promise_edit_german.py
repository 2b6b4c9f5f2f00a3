"""The edit form in German keeps what was saved: the due date in the ISO form a date input needs (a
German "31.03.2027" leaves the box empty and the date is lost) and the target as a plain number (a
stored 4.000 reads as four thousand to a German)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from web.gate_forms import ConditionForm

pytestmark = pytest.mark.django_db


def test_the_german_edit_form_shows_the_saved_due_date_target_and_deal_value(
        client, seller, make_promise, django_assert_max_num_queries):
    # given a draft due on 31 March 2027 with a target of 4 and a deal value of 12,500 EUR
    promise = make_promise(due_date=dt.date(2027, 3, 31), target_value=Decimal("4"), deal_value=Decimal("12500"))
    client.force_login(seller)
    client.cookies["django_language"] = "de"
    # when its owner opens the edit form in German
    with django_assert_max_num_queries(25):
        body = client.get(reverse("web:promise-edit", args=[promise.pk])).content.decode()
    # then the boxes hold what was saved, in the form the inputs take
    assert "Leistungsversprechen bearbeiten" in body
    assert 'type="date" name="due_date" value="2027-03-31"' in body
    assert 'name="target_value" value="4"' in body and 'name="deal_value" value="12500"' in body


def test_a_condition_due_date_is_shown_back_in_iso_form_in_german():
    form = ConditionForm(initial={"due": dt.date(2027, 1, 15)}, owners=[], calendar=None)
    with translation.override("de"):
        assert 'value="2027-01-15"' in str(form["due"])
