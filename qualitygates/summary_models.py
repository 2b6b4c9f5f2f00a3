"""Summary rows of the gate reviews, kept in the same transaction as the decisions and verifications
that change them (qualitygates/summaries.py, promises/summaries.py)."""

from __future__ import annotations

from django.db import models


class GateLeadTimeMonth(models.Model):
    """Lead times (opened → decided) of the passed gates, per gate definition, team and UTC month of the
    decision, as a histogram: `bucket` numbers a span of about 2 % of the values
    (qualitygates.summaries.LEAD_TIME_THRESHOLDS); each keeps the exact count and sum (µs) of its values. A median or
    p90 read from it is exact where the values of a bucket are equal and within 2 % otherwise."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey("qualitygates.GateDefinition", on_delete=models.CASCADE, null=True,
                                   related_name="+")
    step = models.CharField(max_length=20)
    name = models.CharField(max_length=150)
    order = models.PositiveSmallIntegerField()
    team = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    bucket = models.IntegerField()
    count = models.IntegerField(default=0, db_default=0)
    total_us = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        # A review whose definition was deleted (NULL) adds a row of its own each time (NULLs are distinct,
        # on every database): readers and the recomputation sum rows per key, so the figures stay right.
        constraints = [models.UniqueConstraint(
            fields=["category", "definition", "step", "name", "order", "team", "month", "bucket"],
            name="gate_lead_time_month_unique")]
        indexes = [models.Index(fields=["category", "month"], name="gate_lead_time_by_category"),
                   models.Index(fields=["month"], name="gate_lead_time_by_month")]

    def __str__(self) -> str:
        return f"{self.name} {self.month}: bucket {self.bucket} ({self.count})"


class GateEscapeTally(models.Model):
    """Per gate definition (approval and delivery gates): the promises that passed it, how many of them
    are verified and how many broke — the gate escapes, all time."""

    definition = models.OneToOneField("qualitygates.GateDefinition", on_delete=models.CASCADE, related_name="+")
    passed = models.IntegerField(default=0, db_default=0)
    verified = models.IntegerField(default=0, db_default=0)
    escaped = models.IntegerField(default=0, db_default=0)

    def __str__(self) -> str:
        return f"gate {self.definition_id}: {self.escaped}/{self.verified} of {self.passed}"


class GateEscapeReason(models.Model):
    """Per gate definition and outcome reason: the promises that passed it and broke for that reason."""

    definition = models.ForeignKey("qualitygates.GateDefinition", on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    escaped = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["definition", "reason"], name="gate_escape_reason_unique")]

    def __str__(self) -> str:
        return f"gate {self.definition_id}: {self.reason} ({self.escaped})"
