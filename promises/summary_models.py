"""Summary rows of the promises' outcomes, kept in the same transaction as the transitions that change
them (promises/summaries.py), so the record and the board read a bounded number of rows however long
the history is. `manage.py kvp_summaries` recomputes them from the raw rows and compares."""

from __future__ import annotations

from django.db import models


class PromiseDay(models.Model):
    """Per category and UTC day: promises made that day that left the draft (by `created_at`), and
    promises verified that day (by `verified_at`) that were kept or broken."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    made = models.IntegerField(default=0, db_default=0)
    kept = models.IntegerField(default=0, db_default=0)
    broken = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "day"], name="promise_day_unique")]
        indexes = [models.Index(fields=["day", "category"], name="promise_day_by_day")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.day}: made {self.made}, kept {self.kept}, broken {self.broken}"


class BrokenReasonDay(models.Model):
    """Per category, UTC day of verification and outcome reason: how many promises broke for it."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.TextField()
    broken = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "day", "reason"], name="broken_reason_day_unique")]

    def __str__(self) -> str:
        return f"{self.category_id} {self.day}: {self.reason} ({self.broken})"
