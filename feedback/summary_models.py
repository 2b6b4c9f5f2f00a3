"""Summary rows of the feedback, kept in the same transaction as the feedback they count
(feedback/services/summaries.py), for the series of the managers' dashboard."""

from __future__ import annotations

from django.db import models


class FeedbackMonth(models.Model):
    """Per category, UTC month received, channel and kind: how much feedback came in, and its CSAT
    (count and sum of the scores) and NPS (scores given, promoters 9–10, detractors 0–6)."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    channel = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    count = models.IntegerField(default=0, db_default=0)
    csat_count = models.IntegerField(default=0, db_default=0)
    csat_sum = models.IntegerField(default=0, db_default=0)
    nps_count = models.IntegerField(default=0, db_default=0)
    promoters = models.IntegerField(default=0, db_default=0)
    detractors = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "month", "channel", "kind"],
                                               name="feedback_month_unique")]
        indexes = [models.Index(fields=["month"], name="feedback_month_by_month")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.month} {self.channel}/{self.kind}: {self.count}"
