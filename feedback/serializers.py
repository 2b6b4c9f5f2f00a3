"""API shapes of the KVP loop. Input is parsed here once into typed values (model instances, ints,
decimals, dates, enums); the rules live in feedback.services. The CSV import validates each row with
FeedbackWriteSerializer, the same serializer that validates one feedback posted to the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.fields import TEXT_MAX, CommentSerializer, IdField, InstanceField
from promises.evidence_serializers import EvidenceSerializer
from promises.models import Customer, Metric, PromiseCategory, ServicePromise
from qualitygates.models import GateDefinition

from .models import (
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    Guidance,
    ImprovementItem,
    ImprovementTarget,
    ImprovementTransition,
    Severity,
    TargetMeasure,
)
from .selectors.targets import Scope
from .services.targets import TargetInput


def Amount(**kwargs) -> serializers.DecimalField:  # noqa: N802
    return serializers.DecimalField(max_digits=14, decimal_places=3, **kwargs)


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "promise", "category", "customer", "channel", "kind", "severity", "csat_score", "nps_score",
                  "text", "promised_value", "actual_value", "reason", "kept_as_seen", "source",
                  "external_reference", "received_at", "recorded_by", "created_at"]
        read_only_fields = fields


class EnumChoiceField(serializers.ChoiceField):
    """A choice of a TextChoices enum, parsed into the enum member."""

    def __init__(self, enum: type[models.TextChoices], **kwargs):
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)

    def to_internal_value(self, data):
        return self.enum(super().to_internal_value(data))


class DayOrDateTimeField(serializers.DateTimeField):
    """An ISO date-time, or an ISO date (taken as noon of that day: exports often carry only the day)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) == 10 and (day := parse_date(value.strip())):
            value = dt.datetime.combine(day, dt.time(12, 0))
        return super().to_internal_value(value)


@dataclass
class FeedbackLinks:
    """The promises, categories and customers a feedback may link to, by id. Loaded in bulk (one query
    each) so that validating the thousands of rows of an import costs a fixed number of queries."""

    promises: dict[int, ServicePromise] = field(default_factory=dict)
    categories: dict[int, PromiseCategory] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)

    @classmethod
    def load(cls, *, promise_ids: set[int], category_ids: set[int], customer_ids: set[int]) -> FeedbackLinks:
        return cls(
            promises=ServicePromise.objects.select_related("category", "customer").in_bulk(promise_ids)
            if promise_ids else {},
            categories=PromiseCategory.objects.in_bulk(category_ids) if category_ids else {},
            customers=Customer.objects.in_bulk(customer_ids) if customer_ids else {},
        )


class FeedbackWriteSerializer(serializers.Serializer):
    """One feedback: the ids of promise, category and customer become the model instances.

    Pass `context={"links": FeedbackLinks}` to resolve ids from records loaded in advance."""

    kind = EnumChoiceField(FeedbackKind)
    channel = EnumChoiceField(FeedbackChannel)
    severity = EnumChoiceField(Severity, default=Severity.MEDIUM)
    promise = IdField(required=False, allow_null=True, default=None)
    category = IdField(required=False, allow_null=True, default=None)
    customer = IdField(required=False, allow_null=True, default=None)
    csat_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=5)
    nps_score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=10)
    text = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")
    received_at = DayOrDateTimeField(required=False, allow_null=True, default=None)
    external_reference = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")

    def validate(self, attrs: dict) -> dict:
        links = self.context.get("links") or FeedbackLinks.load(
            promise_ids={attrs["promise"]} - {None}, category_ids={attrs["category"]} - {None},
            customer_ids={attrs["customer"]} - {None})
        errors = {}
        for name, found, unknown in (
            ("promise", links.promises, _("Promise %(id)s does not exist.")),
            ("category", links.categories, _("Category %(id)s does not exist.")),
            ("customer", links.customers, _("Customer %(id)s does not exist.")),
        ):
            if attrs[name] is not None:
                if attrs[name] not in found:
                    errors[name] = unknown % {"id": attrs[name]}
                attrs[name] = found.get(attrs[name])
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class FeedbackImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)


class GuidanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guidance
        fields = ["id", "category", "text", "improvement", "published_by", "published_at", "retired_at", "retired_by",
                  "retire_reason", "superseded_by"]
        read_only_fields = fields


class GuidanceRetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX, help_text="why the guidance no longer holds")


class GuidanceSupersedeSerializer(GuidanceRetireSerializer):
    text = serializers.CharField(max_length=TEXT_MAX, help_text="the guidance that replaces it")


class ImprovementTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ImprovementTransition
        fields = ["action", "from_state", "to_state", "actor", "comment", "at"]
        read_only_fields = fields


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = ["id", "name", "name_de", "unit", "direction", "kind"]
        read_only_fields = fields


class ImprovementTargetSerializer(serializers.ModelSerializer):
    metric = MetricSerializer(read_only=True)
    categories = serializers.SerializerMethodField()
    text = serializers.CharField(source="__str__", read_only=True)
    measured_value = Amount(read_only=True, allow_null=True)

    class Meta:
        model = ImprovementTarget
        fields = ["id", "text", "metric", "measure", "categories", "gate_definition", "channel", "feedback_kind",
                  "baseline", "target_value", "deadline", "window_days", "product_value", "product_counts",
                  "manual_value", "measured_value", "window_start", "window_end", "measured_at", "reached"]
        read_only_fields = fields

    def get_categories(self, target) -> list[int]:
        return [c.pk for c in target.categories.all()]


class ImprovementSerializer(serializers.ModelSerializer):
    categories = serializers.SerializerMethodField()
    targets = ImprovementTargetSerializer(many=True, read_only=True)
    target_met = serializers.BooleanField(read_only=True, allow_null=True,
                                          help_text="every target reached by its deadline at the last check")
    # Empty until the item is planned, so not the choice enum.
    priority = serializers.CharField(read_only=True, help_text="low, medium, high or critical; empty until planned")

    class Meta:
        model = ImprovementItem
        fields = ["id", "title", "description", "state", "origin", "categories", "owner", "priority", "start_date",
                  "due_date", "budget", "targets", "target_met", "measured_at", "check_note", "standardized_at",
                  "created_at", "updated_at"]
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



def _instances(model, ids: list[int], label: str) -> list:
    found = model.objects.in_bulk(ids)
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise serializers.ValidationError(_("Unknown %(what)s id(s): %(ids)s.") % {
            "what": label, "ids": ", ".join(map(str, unknown))})
    return [found[i] for i in ids]


class ScopeSerializer(serializers.Serializer):
    """Where a target is measured: categories, optionally one gate and one feedback channel."""

    categories = serializers.ListField(child=IdField(), required=False, default=list, max_length=50)
    gate_definition = IdField(required=False, allow_null=True, default=None)
    channel = serializers.ChoiceField(choices=FeedbackChannel.choices, required=False, allow_blank=True, default="")
    feedback_kind = serializers.ChoiceField(choices=FeedbackKind.choices, required=False, allow_blank=True,
                                            default="", help_text="the kind counted by feedback_count")

    def validate_categories(self, value: list[int]) -> list[PromiseCategory]:
        return _instances(PromiseCategory, value, "category")

    def validate_gate_definition(self, value: int | None) -> GateDefinition | None:
        return _instances(GateDefinition, [value], "gate definition")[0] if value is not None else None


class TargetSerializer(ScopeSerializer):
    """One SMART target; parsed into a TargetInput."""

    metric = IdField(help_text="id of a catalogue metric: its unit and direction apply")
    measure = EnumChoiceField(TargetMeasure, required=False, default=TargetMeasure.MANUAL)
    baseline = Amount()
    target_value = Amount()
    deadline = serializers.DateField()
    window_days = serializers.IntegerField(min_value=1, max_value=3660, required=False, default=90)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="",
                                 help_text="optional; if sent, it must be the metric's unit")

    def validate_metric(self, value: int) -> Metric:
        return _instances(Metric, [value], "metric")[0]

    def validate(self, attrs: dict) -> TargetInput:
        return TargetInput(metric=attrs["metric"], unit=attrs["unit"], measure=attrs["measure"],
                           baseline=attrs["baseline"], target_value=attrs["target_value"], deadline=attrs["deadline"],
                           categories=tuple(attrs["categories"]), gate_definition=attrs["gate_definition"],
                           channel=attrs["channel"], feedback_kind=attrs["feedback_kind"],
                           window_days=attrs["window_days"])


LEGACY_TARGET_FIELDS = ("target_metric", "baseline_value", "target_value", "target_deadline")


class PlanSerializer(CommentSerializer):
    """The plan with `targets`. For compatibility the old single target (target_metric, unit,
    baseline_value, target_value, target_deadline) is still accepted and becomes one target, its text
    mapped onto the catalogue metric of that name (a new catalogue entry if there is none)."""

    owner = IdField(help_text="id of an active user")
    priority = EnumChoiceField(Severity)
    start_date = serializers.DateField()
    due_date = serializers.DateField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    targets = TargetSerializer(many=True, required=False, default=list, max_length=20)
    target_metric = serializers.CharField(max_length=120, required=False, help_text="deprecated: use targets")
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="",
                                 help_text="deprecated: the unit of target_metric")
    baseline_value = Amount(required=False, help_text="deprecated: use targets")
    target_value = Amount(required=False, help_text="deprecated: use targets")
    target_deadline = serializers.DateField(required=False, help_text="deprecated: use targets")

    def validate_owner(self, value: int):
        owner = get_user_model().objects.filter(pk=value, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError(_("User %(id)s is not an active user.") % {"id": value})
        return owner

    def validate(self, attrs: dict) -> dict:
        legacy = {name: attrs.pop(name) for name in LEGACY_TARGET_FIELDS if name in attrs}
        unit = attrs.pop("unit")
        if legacy:
            if attrs["targets"]:
                raise serializers.ValidationError({"targets": _("Send targets or the single target fields, not both.")})
            missing = {name: _("This field is required.") for name in LEGACY_TARGET_FIELDS if name not in legacy}
            if missing:
                raise serializers.ValidationError(missing)
            attrs["targets"] = [TargetInput(metric_name=legacy["target_metric"], unit=unit,
                                            baseline=legacy["baseline_value"], target_value=legacy["target_value"],
                                            deadline=legacy["target_deadline"])]
        return attrs


class MeasurementSerializer(serializers.Serializer):
    target = IdField()
    value = Amount()


class CheckSerializer(serializers.Serializer):
    measurements = MeasurementSerializer(many=True, required=False, default=list, max_length=20,
                                         help_text="values typed by hand, by target id (the product measures too)")
    measured_value = Amount(required=False, allow_null=True, default=None,
                            help_text="a value typed by hand for an item with one target")
    note = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, required=False, default="")

    def validate(self, attrs: dict) -> dict:
        return {"manual_values": {m["target"]: m["value"] for m in attrs["measurements"]},
                "measured_value": attrs["measured_value"], "note": attrs["note"]}


class BaselineQuerySerializer(ScopeSerializer):
    """GET /api/improvements/{id}/baseline/: what the product measures today, as a proposed baseline."""

    measure = EnumChoiceField(TargetMeasure)
    metric = IdField()
    window_days = serializers.IntegerField(min_value=1, max_value=3660, required=False, default=90)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="end of the window (default now); not in the future")
    categories = serializers.CharField(required=False, allow_blank=True, default="",
                                       help_text="comma-separated category ids (default: the item's)")

    def validate_metric(self, value: int) -> Metric:
        return _instances(Metric, [value], "metric")[0]

    def validate_categories(self, value: str) -> list[PromiseCategory] | None:
        if not value.strip():
            return None
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError(_("comma-separated ids")) from None
        return _instances(PromiseCategory, ids[:50], "category")

    def scope(self, attrs: dict, default_category_ids: tuple[int, ...]) -> Scope:
        categories = attrs["categories"]
        return Scope(category_ids=tuple(c.pk for c in categories) if categories is not None else default_category_ids,
                     gate_definition=attrs["gate_definition"], channel=attrs["channel"],
                     feedback_kind=attrs["feedback_kind"])


class BaselineSerializer(serializers.Serializer):
    measure = serializers.CharField()
    metric = MetricSerializer()
    value = Amount(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    categories = serializers.ListField(child=serializers.IntegerField())


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
    evidence = EvidenceSerializer(allow_null=True, default=None,
                                  help_text="With ?metric=: what the category delivered on it (feasibility).")


class FiniteDecimalField(serializers.DecimalField):
    default_error_messages = {"not_finite": _("The target must be a finite number.")}

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip().lower().lstrip("+-") in {"nan", "inf", "infinity", "snan"}:
            self.fail("not_finite")
        return super().to_internal_value(data)


class RecordQuerySerializer(serializers.Serializer):
    """The category record's query: a metric of the category for the evidence, and a proposed target."""

    metric = InstanceField(queryset=Metric.objects.all(), required=False,
                           help_text="A metric of the category: adds the evidence of what was delivered on it.")
    target = FiniteDecimalField(max_digits=14, decimal_places=3, required=False,
                                help_text="A proposed target: the share of past promises that met it.")
    window_days = serializers.IntegerField(min_value=1, max_value=3660, required=False,
                                           help_text="The evidence window in days (365 unless given).")
    until = serializers.DateField(required=False, help_text="The last day of the evidence window (today unless "
                                                            "given); not in the future.")

    def validate(self, attrs) -> dict:
        if "metric" not in attrs and any(name in attrs for name in ("target", "window_days", "until")):
            raise serializers.ValidationError({"metric": _("Evidence needs a metric.")})
        return attrs
