"""Query filters of the list endpoints (django-filter). Shape only: they narrow a selector's queryset."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model

from promises.models import (
    Customer,
    Department,
    PromiseCategory,
    PromiseChannel,
    PromiseState,
    ServicePromise,
)
from qualitygates.models import GateReview, GateStep, ReviewState

from .fields import MAX_ID


class _IdFilter(django_filters.NumberFilter):
    """An id: an integer within the database's range, so no out-of-range value reaches a query."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class PromiseFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=PromiseState.choices)
    category = django_filters.ModelChoiceFilter(queryset=PromiseCategory.objects.all())
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all())
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.all())
    origin_department = django_filters.ChoiceFilter(choices=Department.choices)
    channel = django_filters.ChoiceFilter(choices=PromiseChannel.choices)
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = ServicePromise
        fields = ["state", "category", "customer", "owner", "origin_department", "channel"]


class GateReviewFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ReviewState.choices)
    step = django_filters.ChoiceFilter(choices=GateStep.choices)
    promise = _IdFilter(field_name="promise_id")

    class Meta:
        model = GateReview
        fields = ["state", "step", "promise"]
