"""Shapes of requests and responses. Serializers check shape and range only (so no input reaches
the database in a form it refuses); every rule about who may do what lives in the services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from core import roles
from promises.customer_view import customer_status
from promises.models import Customer, PromiseCategory, ServicePromise, TransitionLog
from promises.services import EDITABLE_FIELDS
from qualitygates.models import CheckResult, Decision, GateCheck, GateCondition, GateReview

from .fields import TEXT_MAX, IdField

User = get_user_model()



class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()
    is_manager = serializers.SerializerMethodField()
    is_promise_maker = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "teams", "is_manager", "is_promise_maker"]

    def get_teams(self, user) -> list[str]:
        return sorted(roles.team_names(user))

    def get_is_manager(self, user) -> bool:
        return roles.is_manager(user)

    def get_is_promise_maker(self, user) -> bool:
        return roles.is_promise_maker(user)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    created = serializers.DateTimeField()


# --- customers and categories ---------------------------------------------------------------------

class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "segment", "email", "language", "crm_reference", "created_at"]
        read_only_fields = ["id", "created_at"]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = PromiseCategory
        fields = ["id", "name", "slug", "description", "interim_notice_days"]


# --- promises -------------------------------------------------------------------------------------

class PromiseWriteSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=PromiseCategory.objects.all())
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), allow_null=True,
                                                  required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, write_only=True,
        help_text="Record on someone else's behalf (managers only).",
    )

    class Meta:
        model = ServicePromise
        fields = [*EDITABLE_FIELDS, "owner"]
        extra_kwargs = {"description": {"max_length": TEXT_MAX}}


class PromiseUpdateSerializer(PromiseWriteSerializer):
    class Meta(PromiseWriteSerializer.Meta):
        fields = list(EDITABLE_FIELDS)


class PromiseSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, allow_null=True,
                                          default=None)
    owner = UserRefSerializer(read_only=True)
    commitment = serializers.CharField(read_only=True)
    customer_status = serializers.SerializerMethodField()

    class Meta:
        model = ServicePromise
        fields = [
            "id", "title", "description", "category", "category_name", "customer", "customer_name",
            "customer_segment", "origin_department", "channel", "metric", "comparison", "target_value", "unit",
            "commitment", "due_date", "owner", "crm_reference", "deal_value", "state", "rework_rounds",
            "actual_value", "outcome_reason", "verified_at", "customer_status", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_customer_status(self, promise) -> str:
        return customer_status(promise.state, verified_kept=promise.kept).key


class GateCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = GateCheck
        fields = ["id", "order", "text", "requirement", "weight", "result", "note"]
        read_only_fields = fields


class GateConditionSerializer(serializers.ModelSerializer):
    class Meta:
        model = GateCondition
        fields = ["id", "description", "owner", "due_at", "state", "resolved_at", "note"]
        read_only_fields = fields


class GateReviewSerializer(serializers.ModelSerializer):
    promise_title = serializers.CharField(source="promise.title", read_only=True)
    owning_team_name = serializers.CharField(source="owning_team.name", read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    # Declared, because a read-only model field loses allow_blank and the schema would forbid "".
    decision = serializers.ChoiceField(choices=Decision.choices, allow_blank=True, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = GateReview
        fields = [
            "id", "promise", "promise_title", "round", "order", "name", "step", "owning_team", "owning_team_name",
            "state", "opened_at", "due_at", "is_overdue", "decision", "decided_by", "decided_at", "comment",
        ]
        read_only_fields = fields


class GateReviewDetailSerializer(GateReviewSerializer):
    checks = GateCheckSerializer(many=True, read_only=True)
    conditions = GateConditionSerializer(many=True, read_only=True)

    class Meta(GateReviewSerializer.Meta):
        fields = [*GateReviewSerializer.Meta.fields, "checks", "conditions"]
        read_only_fields = fields


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



class VerifySerializer(serializers.Serializer):
    actual_value = serializers.DecimalField(max_digits=14, decimal_places=3)
    reason = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")


class CheckInputSerializer(serializers.Serializer):
    check = IdField(help_text="The id of one of the gate's checks.")
    result = serializers.ChoiceField(choices=[c for c in CheckResult.choices if c[0]])
    note = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")


class ConditionInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    owner = IdField(help_text="The user who sees to it.")
    due_at = serializers.DateTimeField()


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    checks = CheckInputSerializer(many=True, required=False, default=list, max_length=200)
    conditions = ConditionInputSerializer(many=True, required=False, default=list, max_length=50)


class ConditionMeetSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
