"""What the feedback app's admin pages share: a domain error placed on its form, and a service form
rendered in the admin's frame."""

from __future__ import annotations

from django import forms
from django.template.response import TemplateResponse

from core.admin_helpers import domain_error_text
from core.errors import DomainError


def form_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a domain error on the form: per field where the service named one, else on the form."""
    placed = False
    for name, text in exc.fields.items():
        key = name.removesuffix("_id").removesuffix("_ids")
        if key in form.fields:
            form.add_error(key, text)
            placed = True
        elif name in form.fields:
            form.add_error(name, text)
            placed = True
    if not placed or not exc.fields:
        form.add_error(None, domain_error_text(exc))
    elif exc.message:
        form.add_error(None, exc.message)


def render_form(modeladmin, request, template: str, title: str, **context):
    return TemplateResponse(request, template, {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta, "title": title, **context})
