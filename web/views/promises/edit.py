"""/promises/<id>/edit/: a draft or a promise in rework, edited in the new-promise form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core import roles
from core.errors import DomainError, NotAllowed
from promises import services
from promises.selectors import promise_detail
from web.forms import form_add_domain_error

from .forms import PromiseForm
from .new import _bound_choice, _wire, category_context, evidence_context

EDIT_FIELDS = [name for name in PromiseForm.base_fields if name in services.EDITABLE_FIELDS]


def can_edit(user, promise) -> bool:
    return promise.state in services.EDITABLE_STATES and (promise.owner_id == user.pk or roles.is_manager(user))


@login_required
def promise_edit(request, promise_id: int):
    promise = promise_detail(user=request.user, promise_id=promise_id)
    if promise is None:
        raise Http404(_("Promise %(id)s does not exist.") % {"id": promise_id})
    if not can_edit(request.user, promise):
        raise PermissionDenied(_("Only the owner or a manager edits a draft or a promise in rework."))
    initial = {name: getattr(promise, name) for name in EDIT_FIELDS}
    form = PromiseForm(request.POST or None, user=request.user, initial=initial)
    _wire(form)
    if request.method == "POST" and form.is_valid():
        changes = services.PromiseChanges(**{name: form.cleaned_data[name] for name in EDIT_FIELDS})
        try:
            services.promise_update(promise_id=promise.pk, user=request.user, changes=changes)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("web:promise-detail", promise_id=promise.pk)
    category = _bound_choice(form, "category") if form.is_bound else promise.category
    metric = _bound_choice(form, "metric") if form.is_bound else promise.metric
    if category is not None:
        form.fields["metric"].queryset = form.fields["metric"].queryset.filter(categories=category)
    target = form.cleaned_data.get("target_value") if hasattr(form, "cleaned_data") else promise.target_value
    return render(request, "web/promises/new.html", {
        "form": form, "promise": promise,
        **category_context(category),
        **evidence_context(category=category, metric=metric, target=target),
    })
