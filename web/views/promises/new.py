"""/promises/new/: the new-promise form, and the fragments it fetches while the maker types —
the category's guidance, live record and gate plan; the evidence for the metric and target."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core import roles
from core.errors import DomainError
from feedback.selectors.guidance import category_record, guidance_current
from promises import services
from promises.evidence import metric_evidence
from promises.selectors import category_gate_plan, category_list
from web.forms import form_add_domain_error

from .forms import EvidenceQueryForm, PromiseForm
from .labels import team_label


def _require_maker(user) -> None:
    if not roles.is_promise_maker(user):
        raise PermissionDenied(_("Only sales, marketing, presales or managers record promises."))


def _wire(form: PromiseForm) -> None:
    """The htmx attributes that refresh the side panels as the maker chooses and types."""
    evidence = {"hx-get": reverse("web:promise-new-evidence"), "hx-target": "#evidence-panel",
                "hx-include": "#id_category, #id_metric, #id_target_value"}
    form.fields["category"].widget.attrs.update({
        "hx-get": reverse("web:promise-new-category"), "hx-target": "#category-panel", "hx-trigger": "change"})
    form.fields["metric"].widget.attrs.update({**evidence, "hx-trigger": "change"})
    form.fields["target_value"].widget.attrs.update({**evidence, "hx-trigger": "input changed delay:300ms",
                                                      "inputmode": "decimal"})
    form.fields["target_value"].widget.input_type = "text"
    form.fields["deal_value"].widget.input_type = "text"
    form.fields["deal_value"].widget.attrs["inputmode"] = "decimal"


def category_context(category, *, acknowledged=()) -> dict:
    """The category panel: current guidance (to acknowledge), live record and gate plan."""
    if category is None:
        return {"category": None}
    if not hasattr(category, "active_metrics"):
        category = _with_metrics(category)
    record = category_record(category_id=category.pk)
    return {
        "category": category,
        "record": record,
        "keep_rate_percent": None if record["keep_rate"] is None else record["keep_rate"] * 100,
        "gates": [(d, team_label(d.owning_team.name)) for d in category_gate_plan(category_id=category.pk)],
        "metrics": getattr(category, "active_metrics", []),
        "acknowledged": set(acknowledged),
    }


def evidence_context(*, category, metric, target) -> dict:
    if category is None or metric is None:
        return {"evidence": None}
    try:
        evidence = metric_evidence(category=category, metric=metric, target=target)
    except DomainError as error:
        return {"evidence": None, "evidence_error": error.message}
    share = evidence["met_share"]
    return {"evidence": evidence, "metric": metric, "met_percent": None if share is None else share * 100}


@login_required
def promise_new(request):
    _require_maker(request.user)
    initial = {"origin_department": next(iter(sorted(roles.maker_departments(request.user))), "")}
    form = PromiseForm(request.POST or None, user=request.user, initial=initial)
    _wire(form)
    if request.method == "POST" and form.is_valid():
        promise = _create(request, form)
        if promise is not None:
            return redirect("web:promise-detail", promise_id=promise.pk)
    category = _bound_choice(form, "category")
    metric = _bound_choice(form, "metric")
    if category is not None:
        form.fields["metric"].queryset = form.fields["metric"].queryset.filter(categories=category)
    target = form.cleaned_data.get("target_value") if form.is_bound and hasattr(form, "cleaned_data") else None
    acknowledged = form.cleaned_data.get("acknowledged_guidance_ids", ()) if hasattr(form, "cleaned_data") else ()
    return render(request, "web/promises/new.html", {
        "form": form,
        **category_context(category, acknowledged=acknowledged),
        **evidence_context(category=category, metric=metric, target=target),
    })


def _bound_choice(form, name):
    """The instance the form's choice field holds (valid or not), or None."""
    if hasattr(form, "cleaned_data") and form.cleaned_data.get(name) is not None:
        value = form.cleaned_data[name]
        return _with_metrics(value) if name == "category" else value
    return None


def _with_metrics(category):
    return category_list().filter(pk=category.pk).first()


def _create(request, form: PromiseForm):
    """Create the draft; with "submit", submit it too. A refused submission leaves the draft saved and
    says why on its page. Returns the promise, or None when the form shows errors."""
    submit = "submit" in request.POST
    acknowledged = form.cleaned_data["acknowledged_guidance_ids"]
    if submit:
        current = set(guidance_current(category_id=form.cleaned_data["category"].pk).values_list("pk", flat=True))
        if current - set(acknowledged):
            form.add_error("acknowledged_guidance_ids",
                           _("Read and acknowledge the category's guidance before submitting."))
            return None
    try:
        promise = services.promise_create(user=request.user, **form.service_values())
    except DomainError as error:
        form_add_domain_error(form, error)
        return None
    if not submit:
        messages.success(request, _("Saved as a draft."))
        return promise
    try:
        services.promise_submit(promise_id=promise.pk, user=request.user, acknowledged_guidance_ids=acknowledged)
    except DomainError as error:
        messages.error(request, _("Saved as a draft, but not submitted: %(reason)s") % {"reason": error.message})
    else:
        messages.success(request, _("Submitted: the first gate is open."))
    return promise


@login_required
def category_fragment(request):
    """htmx: the chosen category's guidance, record and gate plan, and its metrics for the form."""
    _require_maker(request.user)
    form = EvidenceQueryForm(request.GET)
    category = None
    if form.is_valid() or "category" not in form.errors:
        category = form.cleaned_data.get("category") if hasattr(form, "cleaned_data") else None
    category = _with_metrics(category) if category else None
    # The metric select is swapped out of band: a category offers only its catalogue's metrics.
    promise_form = PromiseForm(user=request.user)
    _wire(promise_form)
    if category is not None:
        promise_form.fields["metric"].queryset = promise_form.fields["metric"].queryset.filter(categories=category)
    return render(request, "web/promises/_category_panel.html", {
        **category_context(category), "metric_field": promise_form["metric"]})


@login_required
def evidence_fragment(request):
    """htmx: what was delivered on the metric in the category, and the share that met the target."""
    _require_maker(request.user)
    form = EvidenceQueryForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    context = evidence_context(category=data.get("category"), metric=data.get("metric"),
                               target=data.get("target_value"))
    if "target_value" in form.errors:
        context["target_error"] = form.errors["target_value"][0]
    return render(request, "web/promises/_evidence_panel.html", context)
