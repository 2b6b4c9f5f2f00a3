"""The customer's rating form on the status page: parsed once into typed values, its errors shown
next to its fields in the customer's language."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

KEPT_CHOICES = [("yes", _("Yes")), ("no", _("No"))]
SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class CustomerRatingForm(forms.Form):
    kept_as_seen = forms.TypedChoiceField(
        label=_("Did we keep our promise?"), choices=KEPT_CHOICES, widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
        error_messages={"required": _("Please tell us whether we kept our promise."),
                        "invalid_choice": _("Please answer yes or no.")},
    )
    csat_score = forms.TypedChoiceField(
        label=_("Your rating (1 = poor, 5 = excellent)"), choices=SCORE_CHOICES, widget=forms.RadioSelect,
        coerce=int,
        error_messages={"required": _("Please choose a rating from 1 to 5."),
                        "invalid_choice": _("Please choose a rating from 1 to 5.")},
    )
    text = forms.CharField(
        label=_("Anything you want to tell us?"), required=False, max_length=2000, strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )
