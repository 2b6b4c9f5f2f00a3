"""The REST API: thin views over the services (writes) and selectors (reads).

A view checks the request's shape with a serializer, calls one service or selector, and renders
the result. Who may do what is decided in the services alone; their DomainErrors become the JSON
error shape in api.errors.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.throttling import TokenCreateThrottle
from feedback.serializers import SubmitSerializer
from promises import selectors as promise_selectors
from promises import services as promise_services
from qualitygates import selectors as gate_selectors
from qualitygates import services as gate_services

from . import serializers as s
from . import services as api_services
from .fields import CommentSerializer
from .filters import GateReviewFilter, PromiseFilter
from .mixins import ID_PATTERN, ApiMixin, validated

# --- me and tokens --------------------------------------------------------------------------------

class MeView(ApiMixin, APIView):
    @extend_schema(responses=s.MeSerializer, summary="The signed-in user with their teams and roles")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class TokenView(ApiMixin, APIView):
    """Programs authenticate with `Authorization: Token <key>`; a user gets and revokes their key here."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [*super().get_throttles(), TokenCreateThrottle()]
        return super().get_throttles()

    @extend_schema(request=s.TokenRequestSerializer, responses={201: s.TokenSerializer}, auth=[],
                   summary="Create a token (replaces the user's earlier one)")
    def post(self, request):
        data = validated(s.TokenRequestSerializer, request.data)
        token = api_services.token_create(username=data["username"], password=data["password"],
                                          request=request._request)
        return Response({"token": token.key, "created": token.created}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: OpenApiResponse(description="Revoked.")},
                   summary="Revoke the signed-in user's token")
    def delete(self, request):
        api_services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- customers and categories ---------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(summary="Customers"),
    retrieve=extend_schema(summary="One customer"),
    create=extend_schema(summary="Record a customer (promise makers)", request=s.CustomerSerializer,
                         responses={201: s.CustomerSerializer}),
)
class CustomerViewSet(ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.CustomerSerializer
    lookup_value_regex = ID_PATTERN
    search_fields = ["name", "segment", "email", "crm_reference"]
    ordering_fields = ["name", "created_at"]
    filterset_fields = ["language", "segment"]

    def get_queryset(self):
        return promise_selectors.customer_list()

    def create(self, request):
        data = validated(s.CustomerSerializer, request.data)
        customer = promise_services.customer_create(user=request.user, **data)
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(summary="Promise categories"),
                    retrieve=extend_schema(summary="One promise category"))
class CategoryViewSet(ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.CategorySerializer
    lookup_value_regex = ID_PATTERN
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return promise_selectors.category_list()


# --- promises -------------------------------------------------------------------------------------

def _comment_action(service, summary: str):
    """A transition action taking an optional comment: POST /api/promises/{id}/<name>/."""

    def view(self, request, pk=None):
        data = validated(CommentSerializer, request.data)
        promise = service(promise_id=int(pk), user=request.user, comment=data["comment"])
        return self._detail(promise.pk)

    view.__name__ = service.__name__.removeprefix("promise_")
    # extend_schema outside action: action() replaces the function's kwargs, where the schema is kept.
    return extend_schema(request=CommentSerializer, responses=s.PromiseDetailSerializer,
                         summary=summary)(action(detail=True, methods=["post"])(view))


@extend_schema_view(
    list=extend_schema(summary="Service promises"),
    retrieve=extend_schema(summary="One promise with its gates, checks and conditions"),
)
class PromiseViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.PromiseSerializer
    lookup_value_regex = ID_PATTERN
    filterset_class = PromiseFilter
    search_fields = ["title", "description", "metric", "customer__name", "customer_segment", "crm_reference"]
    ordering_fields = ["created_at", "updated_at", "due_date", "title", "state", "deal_value"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return promise_selectors.promise_list(user=self.request.user)

    def _detail(self, promise_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        promise = promise_selectors.promise_detail(promise_id=promise_id)
        if promise is None:
            raise NotFound(_("Promise %(id)s does not exist.") % {"id": promise_id})
        return Response(s.PromiseDetailSerializer(promise).data, status=status_code)

    def list(self, request):
        return self._page(self.get_queryset(), s.PromiseSerializer)

    def retrieve(self, request, pk=None):
        return self._detail(int(pk))

    @extend_schema(request=s.PromiseWriteSerializer, responses={201: s.PromiseDetailSerializer},
                   summary="Record a promise (a draft owned by the maker)")
    def create(self, request):
        data = validated(s.PromiseWriteSerializer, request.data)
        promise = promise_services.promise_create(user=request.user, **data)
        return self._detail(promise.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.PromiseUpdateSerializer, responses=s.PromiseDetailSerializer,
                   summary="Edit a draft or a promise in rework")
    def partial_update(self, request, pk=None):
        data = validated(s.PromiseUpdateSerializer, request.data, partial=True)
        promise_services.promise_update(promise_id=int(pk), user=request.user, data=dict(data))
        return self._detail(int(pk))

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")}, summary="Delete a draft")
    def destroy(self, request, pk=None):
        promise_services.promise_delete(promise_id=int(pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SubmitSerializer, responses=s.PromiseDetailSerializer,
                   summary="Submit a draft into its gates, acknowledging its category's guidance")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = validated(SubmitSerializer, request.data)
        promise_services.promise_submit(promise_id=int(pk), user=request.user, comment=data["comment"],
                                        acknowledged_guidance_ids=data["acknowledged_guidance_ids"])
        return self._detail(int(pk))

    resubmit = _comment_action(promise_services.promise_resubmit, "Resubmit after rework")
    withdraw = _comment_action(promise_services.promise_withdraw, "Withdraw before commitment")
    commit = _comment_action(promise_services.promise_commit, "Commit an approved promise to the customer")
    handover = _comment_action(promise_services.promise_handover, "Hand a committed promise over to delivery")
    close = _comment_action(promise_services.promise_close, "Close a verified promise without a closure gate")

    @extend_schema(request=s.VerifySerializer, responses=s.PromiseDetailSerializer,
                   summary="Record the delivered value: the promise is fulfilled or broken")
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        data = validated(s.VerifySerializer, request.data)
        promise_services.promise_verify(promise_id=int(pk), user=request.user, actual_value=data["actual_value"],
                                        reason=data["reason"])
        return self._detail(int(pk))

    @extend_schema(responses=s.TransitionSerializer(many=True), summary="The promise's transition trail",
                   filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, search_fields=[], ordering_fields=[])
    def trail(self, request, pk=None):
        if not promise_selectors.promise_list().filter(pk=int(pk)).exists():
            raise NotFound(_("Promise %(id)s does not exist.") % {"id": pk})
        page = self.paginate_queryset(promise_selectors.promise_trail(promise_id=int(pk)))
        return self.get_paginated_response(s.TransitionSerializer(page, many=True).data)


# --- gate reviews ---------------------------------------------------------------------------------

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
        return gate_selectors.gate_review_list_for_user(user=self.request.user)

    def _detail(self, review_id: int) -> Response:
        review = gate_selectors.gate_review_detail(review_id=review_id)
        if review is None:
            raise NotFound(_("Gate review %(id)s does not exist.") % {"id": review_id})
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
        gate_services.gate_decide(review_id=int(pk), user=request.user, decision=data["decision"],
                                  comment=data["comment"], checks=data["checks"], conditions=data["conditions"])
        return self._detail(int(pk))

    @extend_schema(request=CommentSerializer, responses=s.GateReviewDetailSerializer,
                   summary="Resume a gate on hold")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        data = validated(CommentSerializer, request.data)
        gate_services.gate_resume(review_id=int(pk), user=request.user, comment=data["comment"])
        return self._detail(int(pk))


class GateConditionViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.GateConditionSerializer
    lookup_value_regex = ID_PATTERN

    @extend_schema(request=s.ConditionMeetSerializer, responses=s.GateConditionSerializer,
                   summary="Mark a condition of a conditional go as met")
    @action(detail=True, methods=["post"])
    def meet(self, request, pk=None):
        data = validated(s.ConditionMeetSerializer, request.data)
        condition = gate_services.gate_condition_meet(condition_id=int(pk), user=request.user, note=data["note"])
        return Response(s.GateConditionSerializer(condition).data)
