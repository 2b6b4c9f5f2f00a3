"""Shapes of the promises API: customers, categories, promises with their gates and trail in
answers, and request bodies parsed into typed values for the services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from api.fields import (
    TEXT_MAX,
    IdField,
    InstanceField,
    OptionalText,
    StrictTextField,
    StrictTextModelSerializer,
    UserRefSerializer,
)
from core.errors import ValidationFailed
from qualitygates.serializers import GateReviewDetailSerializer

from .customer_view import customer_status
from .error_codes import PromiseErrorCode
from .models import Customer, Metric, PromiseCategory, ServicePromise, TransitionLog
from .selectors import status_link_visible
from .services import EDITABLE_FIELDS
from .status_link import status_url


class CustomerSerializer(StrictTextModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "segment", "email", "language", "crm_reference", "created_at", "erased_at"]
        read_only_fields = ["id", "created_at", "erased_at"]


class EmptySerializer(serializers.Serializer):
    """A request that takes no fields (an unknown one is refused, not ignored)."""


class ErasureSerializer(serializers.Serializer):
    customer = CustomerSerializer(read_only=True)
    changed = serializers.DictField(child=serializers.IntegerField(), read_only=True,
                                    help_text="How many records of each kind were pseudonymised.")


class MetricRefSerializer(serializers.ModelSerializer):
    """A catalogue metric as a promise maker chooses it: the name in the reader's language."""

    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Metric
        fields = ["id", "name", "unit", "direction", "kind"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    metrics = MetricRefSerializer(source="active_metrics", many=True, read_only=True,
                                  help_text="The catalogue metrics a promise of this category chooses from.")

    class Meta:
        model = PromiseCategory
        fields = ["id", "name", "slug", "description", "interim_notice_days", "metrics"]


class PromiseWriteSerializer(StrictTextModelSerializer):
    category = InstanceField(queryset=PromiseCategory.objects.all())
    customer = InstanceField(queryset=Customer.objects.all(), allow_null=True, required=False)
    metric = InstanceField(queryset=Metric.objects.all(), help_text="A metric of the category's catalogue.")
    unit = StrictTextField(max_length=30, required=False, write_only=True,
                           help_text="Optional: when given, it must be the metric's unit.")
    owner = InstanceField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, write_only=True,
        help_text="Record on someone else's behalf (managers only).",
    )

    class Meta:
        model = ServicePromise
        fields = [*EDITABLE_FIELDS, "owner"]
        extra_kwargs = {"description": {"max_length": TEXT_MAX}}


class PromiseUpdateSerializer(PromiseWriteSerializer):
    class Meta(PromiseWriteSerializer.Meta):
        fields = list(EDITABLE_FIELDS)

    def unknown_fields_error(self, names: list[str]) -> ValidationFailed:
        """Called by api.mixins.validated: after recording, only these fields of a promise may change."""
        return ValidationFailed(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(names)},
                                code=PromiseErrorCode.NOT_EDITABLE, fields={name: _("not editable") for name in names})


class PromiseSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, allow_null=True,
                                          default=None)
    owner = UserRefSerializer(read_only=True)
    metric_name = serializers.CharField(source="metric.display_name", read_only=True)
    unit = serializers.CharField(read_only=True, help_text="The metric's unit.")
    commitment = serializers.CharField(read_only=True)
    customer_status = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField(
        help_text="The customer's status page (from commitment on); only for the owner, their department "
                  "and managers, else null.")

    class Meta:
        model = ServicePromise
        fields = [
            "id", "title", "description", "category", "category_name", "customer", "customer_name",
            "customer_segment", "origin_department", "channel", "metric", "metric_name", "comparison", "target_value",
            "unit", "commitment", "due_date", "owner", "crm_reference", "deal_value", "state", "rework_rounds",
            "actual_value", "outcome_reason", "verified_at", "customer_status", "status_url", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_customer_status(self, promise) -> str:
        return customer_status(promise.state, verified_kept=promise.kept).key

    def get_status_url(self, promise) -> str | None:
        request = self.context.get("request")
        if request is None or not status_link_visible(user=request.user, promise=promise):
            return None
        return status_url(promise)


class TransitionSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    gate_name = serializers.CharField(source="gate_review.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = TransitionLog
        fields = ["id", "subject", "action", "from_state", "to_state", "actor", "comment", "at", "gate_review",
                  "gate_name"]
        read_only_fields = fields


class PromiseDetailSerializer(PromiseSerializer):
    gates = GateReviewDetailSerializer(source="gate_reviews", many=True, read_only=True)

    class Meta(PromiseSerializer.Meta):
        fields = [*PromiseSerializer.Meta.fields, "gates"]
        read_only_fields = fields


# --- actions --------------------------------------------------------------------------------------

class SubmitSerializer(serializers.Serializer):
    """Submitting a promise: a comment, and the guidance of its category the submitter acknowledges."""

    comment = OptionalText()
    acknowledged_guidance_ids = serializers.ListField(child=IdField(), required=False, default=list,
                                                      max_length=200)


class VerifySerializer(serializers.Serializer):
    actual_value = serializers.DecimalField(max_digits=14, decimal_places=3)
    reason = OptionalText()
