"""API shapes of the KVP loop. They check shape and range only; the rules live in feedback.services."""

from __future__ import annotations

from rest_framework import serializers

from api.fields import TEXT_MAX, CommentSerializer, IdField

from .models import (
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    Guidance,
    ImprovementItem,
    ImprovementTransition,
    Priority,
    Severity,
)


def Amount(**kwargs) -> serializers.DecimalField:  # noqa: N802
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


class SubmitSerializer(serializers.Serializer):
    """Submitting a promise: a comment, and the guidance of its category the submitter acknowledges."""

    comment = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    acknowledged_guidance_ids = serializers.ListField(child=IdField(), required=False, default=list,
                                                      max_length=200)


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "promise", "category", "customer", "channel", "kind", "severity", "csat_score", "nps_score",
                  "text", "promised_value", "actual_value", "reason", "kept_as_seen", "source",
                  "external_reference", "received_at", "recorded_by", "created_at"]
        read_only_fields = fields


class FeedbackWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    channel = serializers.ChoiceField(choices=FeedbackChannel.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    promise = IdField(required=False, allow_null=True, default=None)
    category = IdField(required=False, allow_null=True, default=None)
    customer = IdField(required=False, allow_null=True, default=None)
    csat_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=5)
    nps_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=10)
    text = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    external_reference = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class FeedbackImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)


class GuidanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guidance
        fields = ["id", "category", "text", "improvement", "published_at", "retired_at"]
        read_only_fields = fields


class ImprovementTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ImprovementTransition
        fields = ["action", "from_state", "to_state", "actor", "comment", "at"]
        read_only_fields = fields


class ImprovementSerializer(serializers.ModelSerializer):
    categories = serializers.SerializerMethodField()
    target = serializers.CharField(source="target_text", read_only=True)
    target_met = serializers.BooleanField(read_only=True, allow_null=True)
    # Empty until the item is planned, so not the choice enum.
    priority = serializers.CharField(read_only=True, help_text="low, medium, high or critical; empty until planned")

    class Meta:
        model = ImprovementItem
        fields = ["id", "title", "description", "state", "origin", "categories", "owner", "priority", "start_date",
                  "due_date", "budget", "target_metric", "baseline_value", "target_value", "target_deadline",
                  "target", "measured_value", "target_met", "measured_at", "check_note", "standardized_at", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_categories(self, item) -> list[int]:
        return [c.pk for c in item.categories.all()]


class ImprovementDetailSerializer(ImprovementSerializer):
    trail = ImprovementTransitionSerializer(many=True, read_only=True)
    feedback = serializers.SerializerMethodField()
    gate_definitions = serializers.SerializerMethodField()

    class Meta(ImprovementSerializer.Meta):
        fields = [*ImprovementSerializer.Meta.fields, "feedback", "gate_definitions", "trail"]
        read_only_fields = fields

    def get_feedback(self, item) -> list[int]:
        return [f.pk for f in item.feedback.all()]

    def get_gate_definitions(self, item) -> list[int]:
        return [d.pk for d in item.gate_definitions.all()]


class ProposeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    categories = serializers.ListField(child=IdField(), required=False, default=list, max_length=50)
    gate_definitions = serializers.ListField(child=IdField(), required=False, default=list, max_length=50)
    feedback = serializers.ListField(child=IdField(), required=False, default=list, max_length=200)




class PlanSerializer(CommentSerializer):
    owner = IdField()
    priority = serializers.ChoiceField(choices=Priority.choices)
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    target_metric = serializers.CharField(max_length=120)
    baseline_value = Amount()
    target_value = Amount()
    target_deadline = serializers.DateField()


class CheckSerializer(serializers.Serializer):
    measured_value = Amount()
    note = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")


class CriterionChangeSerializer(serializers.Serializer):
    definition_id = IdField()
    text = serializers.CharField(max_length=300)
    requirement = serializers.ChoiceField(choices=[("must", "must"), ("should", "should")], default="must")
    weight = serializers.IntegerField(min_value=1, max_value=100, default=1)
    replaces_criterion_id = IdField(required=False, allow_null=True, default=None)


class StandardizeSerializer(CommentSerializer):
    guidance_text = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    guidance_categories = serializers.ListField(child=IdField(), required=False, allow_null=True, default=None,
                                                max_length=100)
    criteria_changes = CriterionChangeSerializer(many=True, required=False, default=list, max_length=50)


class LeadTimeSerializer(serializers.Serializer):
    step = serializers.CharField()
    gate = serializers.CharField()
    passed = serializers.IntegerField()
    median_hours = serializers.SerializerMethodField()

    def get_median_hours(self, row) -> float | None:
        return round(row["median"].total_seconds() / 3600, 2) if row["median"] is not None else None


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class CategoryRecordSerializer(serializers.Serializer):
    category = serializers.IntegerField(source="category.pk")
    window_days = serializers.IntegerField()
    guidance = GuidanceSerializer(many=True)
    made = serializers.IntegerField()
    kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    keep_rate = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    lead_times = LeadTimeSerializer(many=True)
    top_reasons = ReasonSerializer(many=True)
