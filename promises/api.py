"""REST API of promises (registered in api/urls.py): customers, categories, promises with their
transition actions and trail. Thin: the serializers parse the request, one service or selector
answers; the services decide who may do what."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api.fields import CommentSerializer
from api.mixins import ID_PATTERN, ApiMixin, validated

from . import personal_data, selectors, services
from . import serializers as s
from .models import Customer, Department, PromiseCategory, PromiseChannel, PromiseState, ServicePromise


class PromiseFilter(django_filters.FilterSet):
    # distinct=False: a filter on the row's own column needs no DISTINCT, which would stop the first page
    # from being read off the index in order (issue 13).
    state = django_filters.MultipleChoiceFilter(choices=PromiseState.choices, distinct=False)
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
        return selectors.customer_list(user=self.request.user)

    def create(self, request):
        data = validated(s.CustomerSerializer, request.data)
        customer = services.customer_create(user=request.user, **data)
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiResponse(description="Everything stored about the customer contact.")},
                   summary="Export a customer contact's personal data as JSON (managers; GDPR art. 15)",
                   filters=False)
    @action(detail=True, methods=["get"], filterset_fields=[], search_fields=[], ordering_fields=[])
    def export(self, request, pk=None):
        return Response(personal_data.customer_personal_data_export(customer_id=int(pk), user=request.user))

    @extend_schema(request=None, responses=s.ErasureSerializer,
                   summary="Erase a customer contact's personal data by pseudonymisation (managers; GDPR art. 17)")
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        validated(s.EmptySerializer, request.data)
        changed = personal_data.customer_personal_data_erase(customer_id=int(pk), user=request.user)
        customer = selectors.customer_list(user=request.user).get(pk=int(pk))
        return Response(s.ErasureSerializer({"customer": customer, "changed": changed}).data)


@extend_schema_view(list=extend_schema(summary="Promise categories"),
                    retrieve=extend_schema(summary="One promise category"))
class CategoryViewSet(ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.CategorySerializer
    lookup_value_regex = ID_PATTERN
    search_fields = ["name", "slug", "description"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.category_list()


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
    search_fields = ["title", "description", "metric__name", "metric__name_de", "customer__name", "customer_segment", "crm_reference"]
    ordering_fields = ["created_at", "updated_at", "due_date", "title", "state", "deal_value"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.promise_list(user=self.request.user)

    def is_visible(self, pk: int) -> bool:
        return selectors.promise_is_visible(user=self.request.user, promise_id=pk)

    def not_found(self, pk) -> NotFound:
        return NotFound(_("Promise %(id)s does not exist.") % {"id": pk})

    def _detail(self, promise_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        promise = selectors.promise_detail(user=self.request.user, promise_id=promise_id)
        if promise is None:
            raise self.not_found(promise_id)
        return Response(s.PromiseDetailSerializer(promise, context={"request": self.request}).data,
                        status=status_code)

    def list(self, request):
        return self._page(self.get_queryset(), s.PromiseSerializer)

    def retrieve(self, request, pk=None):
        return self._detail(int(pk))

    @extend_schema(request=s.PromiseWriteSerializer, responses={201: s.PromiseDetailSerializer},
                   summary="Record a promise (a draft owned by the maker)")
    def create(self, request):
        data = validated(s.PromiseWriteSerializer, request.data)
        promise = services.promise_create(user=request.user, **data)
        return self._detail(promise.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.PromiseUpdateSerializer, responses=s.PromiseDetailSerializer,
                   summary="Edit a draft or a promise in rework")
    def partial_update(self, request, pk=None):
        data = validated(s.PromiseUpdateSerializer, request.data, partial=True)
        services.promise_update(promise_id=int(pk), user=request.user, changes=services.PromiseChanges(**data))
        return self._detail(int(pk))

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")}, summary="Delete a draft")
    def destroy(self, request, pk=None):
        services.promise_delete(promise_id=int(pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.SubmitSerializer, responses=s.PromiseDetailSerializer,
                   summary="Submit a draft into its gates, acknowledging its category's guidance")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        data = validated(s.SubmitSerializer, request.data)
        services.promise_submit(promise_id=int(pk), user=request.user, comment=data["comment"],
                                acknowledged_guidance_ids=data["acknowledged_guidance_ids"])
        return self._detail(int(pk))

    resubmit = _comment_action(services.promise_resubmit, "Resubmit after rework")
    withdraw = _comment_action(services.promise_withdraw, "Withdraw before commitment")
    commit = _comment_action(services.promise_commit, "Commit an approved promise to the customer")
    handover = _comment_action(services.promise_handover, "Hand a committed promise over to delivery")
    close = _comment_action(services.promise_close, "Close a verified promise without a closure gate")

    @extend_schema(request=CommentSerializer, responses=s.PromiseDetailSerializer,
                   summary="Revoke the customer's status link (it then answers like an unknown link)")
    @action(detail=True, methods=["post"], url_path="status-link/revoke")
    def status_link_revoke(self, request, pk=None):
        data = validated(CommentSerializer, request.data)
        services.promise_status_link_revoke(promise_id=int(pk), user=request.user, comment=data["comment"])
        return self._detail(int(pk))

    @extend_schema(request=CommentSerializer, responses=s.PromiseDetailSerializer,
                   summary="Issue a new status link to the customer (the previous one stops working)")
    @action(detail=True, methods=["post"], url_path="status-link/reissue")
    def status_link_reissue(self, request, pk=None):
        data = validated(CommentSerializer, request.data)
        services.promise_status_link_reissue(promise_id=int(pk), user=request.user, comment=data["comment"])
        return self._detail(int(pk))

    @extend_schema(request=s.VerifySerializer, responses=s.PromiseDetailSerializer,
                   summary="Record the delivered value: the promise is fulfilled or broken")
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        data = validated(s.VerifySerializer, request.data)
        services.promise_verify(promise_id=int(pk), user=request.user, actual_value=data["actual_value"],
                                reason=data["reason"])
        return self._detail(int(pk))

    @extend_schema(responses=s.TransitionSerializer(many=True), summary="The promise's transition trail",
                   filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, search_fields=[], ordering_fields=[])
    def trail(self, request, pk=None):
        page = self.paginate_queryset(selectors.promise_trail(user=request.user, promise_id=int(pk)))
        return self.get_paginated_response(s.TransitionSerializer(page, many=True).data)
