"""What every page form shares: a service's refusal shown next to the field it names."""

from __future__ import annotations

from django import forms

from core.errors import DomainError


def form_add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the form: on the fields it names that the form shows, else on
    top of the form. The message is the domain's own, in the user's language."""
    named = [name for name in (error.fields or {}) if name in form.fields]
    if not named:
        form.add_error(None, str(error.message))
        return
    for name in named:
        form.add_error(name, str(error.message))
