"""Shapes of the gate engine's API: gate reviews with their checks and conditions in answers, and
a decision's body parsed into typed values (CheckInput, ConditionInput) for the services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from api.fields import IdField, InstanceField, OptionalText, StrictTextField, UserRefSerializer
from promises.evidence_serializers import EvidenceSerializer

from .checks import CheckInput
from .conditions import ConditionInput
from .models import CheckResult, Decision, GateCheck, GateCondition, GateReview


class GateCheckSerializer(serializers.ModelSerializer):
    # Declared, because a read-only model field loses allow_blank and the schema would forbid "".
    prefilled_result = serializers.ChoiceField(
        choices=CheckResult.choices, allow_blank=True, read_only=True,
        help_text="An evidence criterion: the result pre-filled from the evidence when the gate opened.")
    overridden = serializers.BooleanField(
        read_only=True, help_text="The gatekeeper decided against the pre-filled result (see the trail).")

    class Meta:
        model = GateCheck
        fields = ["id", "order", "text", "requirement", "weight", "kind", "evidence_min_share", "result",
                  "prefilled_result", "overridden", "note"]
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
    evidence = EvidenceSerializer(
        read_only=True, allow_null=True,
        help_text="What delivery achieved on the promise's metric when the gate opened, as the gatekeeper saw "
                  "it and decided on (stored, not recomputed); null before the gate opens.")

    class Meta(GateReviewSerializer.Meta):
        fields = [*GateReviewSerializer.Meta.fields, "evidence", "checks", "conditions"]
        read_only_fields = fields


# --- requests -------------------------------------------------------------------------------------

class CheckInputSerializer(serializers.Serializer):
    check = IdField(help_text="The id of one of the gate's checks.")
    result = serializers.ChoiceField(choices=[c for c in CheckResult.choices if c[0]])
    note = OptionalText()

    def validate(self, attrs) -> CheckInput:
        return CheckInput(check_id=attrs["check"], result=CheckResult(attrs["result"]), note=attrs["note"])


class ConditionInputSerializer(serializers.Serializer):
    description = StrictTextField(max_length=300)
    owner = InstanceField(queryset=get_user_model().objects.all(), help_text="The user who sees to it.")
    due_at = serializers.DateTimeField()

    def validate(self, attrs) -> ConditionInput:
        return ConditionInput(description=attrs["description"], owner=attrs["owner"], due_at=attrs["due_at"])


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = OptionalText()
    checks = CheckInputSerializer(many=True, required=False, default=list, max_length=200)
    conditions = ConditionInputSerializer(many=True, required=False, default=list, max_length=50)

    def validate(self, attrs) -> dict:
        return {**attrs, "decision": Decision(attrs["decision"])}


class ConditionMeetSerializer(serializers.Serializer):
    note = OptionalText()
