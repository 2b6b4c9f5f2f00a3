"""REST API of the gate engine (registered in api/urls.py): gate reviews with their decide and
resume actions, and the conditions of a conditional go. Thin: the serializers parse the request,
one service or selector answers; the services decide who may do what."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.fields import CommentSerializer, IdFilter
from api.mixins import ID_PATTERN, ApiMixin, validated

from . import selectors, services
from . import serializers as s
from .models import GateReview, GateStep, ReviewState


class GateReviewFilter(django_filters.FilterSet):
    # distinct=False: see PromiseFilter; DISTINCT kept the open queue off its index (issue 13).
    state = django_filters.MultipleChoiceFilter(choices=ReviewState.choices, distinct=False)
    step = django_filters.ChoiceFilter(choices=GateStep.choices)
    promise = IdFilter(field_name="promise_id")

    class Meta:
        model = GateReview
        fields = ["state", "step", "promise"]


@extend_schema_view(
    list=extend_schema(summary="Gate reviews owned by my teams, open ones first by due time"),
    retrieve=extend_schema(summary="One gate review with its checks and conditions"),
)
class GateReviewViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.GateReviewSerializer
    lookup_value_regex = ID_PATTERN
    filterset_class = GateReviewFilter
    search_fields = ["name", "promise__title"]
    ordering_fields = ["due_at", "opened_at", "decided_at"]

    def get_queryset(self):
        return selectors.gate_review_list_for_user(user=self.request.user)

    def is_visible(self, pk: int) -> bool:
        return selectors.gate_review_is_visible(user=self.request.user, review_id=pk)

    def not_found(self, pk) -> NotFound:
        return NotFound(_("Gate review %(id)s does not exist.") % {"id": pk})

    def _detail(self, review_id: int) -> Response:
        review = selectors.gate_review_detail(user=self.request.user, review_id=review_id)
        if review is None:
            raise self.not_found(review_id)
        return Response(s.GateReviewDetailSerializer(review).data)

    def list(self, request):
        return self._page(self.get_queryset(), s.GateReviewSerializer)

    def retrieve(self, request, pk=None):
        return self._detail(int(pk))

    @extend_schema(request=s.DecideSerializer, responses=s.GateReviewDetailSerializer,
                   summary="Decide an open gate: go (optionally with conditions), kill, hold or recycle")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        data = validated(s.DecideSerializer, request.data)
        review = services.gate_decide(review_id=int(pk), user=request.user, decision=data["decision"],
                                      comment=data["comment"], checks=data["checks"], conditions=data["conditions"])
        return Response(s.GateReviewDetailSerializer(review).data)

    @extend_schema(request=CommentSerializer, responses=s.GateReviewDetailSerializer,
                   summary="Resume a gate on hold")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        data = validated(CommentSerializer, request.data)
        services.gate_resume(review_id=int(pk), user=request.user, comment=data["comment"])
        return self._detail(int(pk))


class GateConditionViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.GateConditionSerializer
    lookup_value_regex = ID_PATTERN

    def is_visible(self, pk: int) -> bool:
        return selectors.gate_condition_is_visible(user=self.request.user, condition_id=pk)

    def not_found(self, pk) -> NotFound:
        return NotFound(_("Gate condition %(id)s does not exist.") % {"id": pk})

    @extend_schema(request=s.ConditionMeetSerializer, responses=s.GateConditionSerializer,
                   summary="Mark a condition of a conditional go as met")
    @action(detail=True, methods=["post"])
    def meet(self, request, pk=None):
        data = validated(s.ConditionMeetSerializer, request.data)
        condition = services.gate_condition_meet(condition_id=int(pk), user=request.user, note=data["note"])
        return Response(s.GateConditionSerializer(condition).data)
