"""The transactional outbox: one row per domain event, written with the change that caused it."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventKind(models.TextChoices):
    GATE_OPENED = "gate_opened", "Gate opened"
    GATE_DECIDED = "gate_decided", "Gate decided"
    GATE_RESUMED = "gate_resumed", "Gate resumed"
    GATE_DUE_SOON = "gate_due_soon", "Gate due soon"
    GATE_OVERDUE = "gate_overdue", "Gate overdue"
    GATE_ESCALATED = "gate_escalated", "Gate escalated"
    CONDITION_LAPSED = "condition_lapsed", "Condition lapsed"
    PROMISE_SUBMITTED = "promise_submitted", "Promise submitted"
    PROMISE_APPROVED = "promise_approved", "Promise approved"
    PROMISE_REJECTED = "promise_rejected", "Promise rejected"
    PROMISE_ON_HOLD = "promise_on_hold", "Promise on hold"
    PROMISE_RESUMED = "promise_resumed", "Promise resumed"
    PROMISE_REWORK = "promise_rework", "Promise sent to rework"
    PROMISE_WITHDRAWN = "promise_withdrawn", "Promise withdrawn"
    PROMISE_COMMITTED = "promise_committed", "Promise committed"
    PROMISE_IN_DELIVERY = "promise_in_delivery", "Promise in delivery"
    PROMISE_FULFILLED = "promise_fulfilled", "Promise fulfilled"
    PROMISE_BROKEN = "promise_broken", "Promise broken"
    PROMISE_CLOSED = "promise_closed", "Promise closed"
    INTERIM_NOTICE_DUE = "interim_notice_due", "Interim notice due"
    GUIDANCE_PUBLISHED = "guidance_published", "Guidance published"
    FEEDBACK_RECEIVED = "feedback_received", "Feedback received"
    IMPROVEMENT_PROPOSED = "improvement_proposed", "Improvement proposed"
    IMPROVEMENT_CHANGED = "improvement_changed", "Improvement changed state"
    EARLY_WARNING = "early_warning", "Early warning: category break rate"
    GATE_ESCAPE_FLAGGED = "gate_escape_flagged", "Gate escape rate flagged"
    WEEKLY_DIGEST = "weekly_digest", "Weekly digest"


class OutboxEvent(models.Model):
    kind = models.CharField(max_length=40, choices=EventKind.choices, db_index=True)
    promise = models.ForeignKey("promises.ServicePromise", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="events")
    gate_review = models.ForeignKey("qualitygates.GateReview", on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
