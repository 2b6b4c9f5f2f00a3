"""Feedback's copies of a customer contact (feedback/services/personal_data.py): the texts of its
feedback, and any feedback quoting its address, are pseudonymised; the rows and their figures stay."""

from __future__ import annotations

from feedback.models import Feedback, FeedbackChannel, FeedbackKind
from feedback.selectors.personal_data import feedback_of_customer
from feedback.services.intake import feedback_record
from feedback.services.personal_data import feedback_pseudonymise
from tests.factories import CustomerFactory

ADDRESS = "erika@kunde.example"


def test_feedback_texts_naming_the_contact_are_pseudonymised(seller, category, customer):
    other = CustomerFactory(name="Other AG")
    own = feedback_record(user=seller, kind=FeedbackKind.COMPLAINT, channel=FeedbackChannel.EMAIL,
                          category=category, customer=customer, csat_score=2,
                          text=f"{customer.name} wrote from {ADDRESS.upper()}: too late.")
    quoting = feedback_record(user=seller, kind=FeedbackKind.SUGGESTION, channel=FeedbackChannel.PHONE,
                              category=category, customer=other, text=f"Ask {ADDRESS} about it.")
    untouched = feedback_record(user=seller, kind=FeedbackKind.PRAISE, channel=FeedbackChannel.PHONE,
                                category=category, customer=other, text=f"{customer.name} was mentioned here.")
    assert set(feedback_of_customer(customer_id=customer.pk, address=ADDRESS)) == {own, quoting}

    changed = feedback_pseudonymise(customer_id=customer.pk, address=ADDRESS,
                                    replacements={ADDRESS: "erased@erased.invalid", customer.name: "erased-7"})

    assert changed == 2
    assert Feedback.objects.get(pk=own.pk).text == "erased-7 wrote from erased@erased.invalid: too late."
    assert Feedback.objects.get(pk=own.pk).csat_score == 2
    assert Feedback.objects.get(pk=quoting.pk).text == "Ask erased@erased.invalid about it."
    # another customer's feedback keeps a name it merely mentions (only the address is searched everywhere)
    assert Feedback.objects.get(pk=untouched.pk).text == untouched.text
