"""After-sales feedback, improvement items (KVP, a PDCA cycle), guidance back to presales.

Rules live in feedback.services.<concern> (writes) and feedback.selectors.<concern> (reads); the models hold the
data, the improvement state machine and the constraints the database itself enforces.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import AppendOnlyModel, any_field_changed


class FeedbackChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    SOCIAL_MEDIA = "social_media", _("Social media")
    SURVEY = "survey", _("Survey")
    FIELD_SERVICE = "field_service", _("Field service")
    STATUS_PAGE = "status_page", _("Customer status page")
    LETTER = "letter", _("Letter")
    IN_PERSON = "in_person", _("In person")
    SYSTEM = "system", _("Recorded by the system")
    OTHER = "other", _("Other")


class FeedbackKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    SUGGESTION = "suggestion", _("Suggestion")
    BROKEN_PROMISE = "broken_promise", _("Broken promise")
    FULFILMENT_OUTCOME = "fulfilment_outcome", _("Fulfilment outcome")


class Severity(models.TextChoices):
    """How serious a feedback is, and how urgent an improvement item is (its priority): one scale."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class FeedbackSource(models.TextChoices):
    MANUAL = "manual", _("Entered by staff")
    AUTOMATIC = "automatic", _("Recorded automatically")
    IMPORT = "import", _("Imported")
    CUSTOMER = "customer", _("Given by the customer")


class Feedback(models.Model):
    """One after-sales experience, linked to a promise where known, else to a category (and customer)."""

    promise = models.ForeignKey("promises.ServicePromise", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="feedback", verbose_name=_("promise"))
    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.PROTECT, related_name="feedback",
                                 verbose_name=_("category"))
    customer = models.ForeignKey("promises.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="feedback", verbose_name=_("customer"))
    channel = models.CharField(_("channel"), max_length=20, choices=FeedbackChannel.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=FeedbackKind.choices, db_index=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    csat_score = models.PositiveSmallIntegerField(
        _("CSAT score (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    nps_score = models.PositiveSmallIntegerField(
        _("NPS score (0–10)"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)])
    text = models.TextField(_("text"), blank=True)
    # The outcome of a verified promise, copied so the record survives later edits of the promise.
    promised_value = models.CharField(_("promised value"), max_length=200, blank=True)
    actual_value = models.DecimalField(_("actual value"), max_digits=14, decimal_places=3, null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    kept_as_seen = models.BooleanField(_("kept, as the customer saw it"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=FeedbackSource.choices,
                              default=FeedbackSource.MANUAL)
    external_reference = models.CharField(_("external reference"), max_length=100, blank=True,
                                          help_text=_("Ticket or survey response id in the system it came from."))
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=Q(csat_score__isnull=True) | Q(csat_score__gte=1, csat_score__lte=5),
                                   name="feedback_csat_1_to_5"),
            models.CheckConstraint(condition=Q(nps_score__isnull=True) | Q(nps_score__gte=0, nps_score__lte=10),
                                   name="feedback_nps_0_to_10"),
            # The customer rates a promise once on the status page.
            models.UniqueConstraint(fields=["promise"], condition=Q(source="customer"),
                                    name="feedback_one_customer_rating_per_promise"),
        ]
        indexes = [models.Index(fields=["category", "kind", "received_at"])]
        # A customer's rating is their word: in the database (PostgreSQL) it cannot be deleted, nor
        # can what it says or what it is about change. Its free text stays editable, so that an
        # erasure request can pseudonymise personal data written into it.
        triggers = [
            pgtrigger.Protect(name="customer_rating_kept", operation=pgtrigger.Delete,
                              condition=pgtrigger.Q(old__source="customer")),
            pgtrigger.Protect(name="customer_rating_unchanged", operation=pgtrigger.Update,
                              condition=pgtrigger.Q(old__source="customer")
                              & any_field_changed("source", "promise", "category", "customer", "csat_score",
                                                  "nps_score", "kept_as_seen", "kind", "received_at")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.category_id} · {self.received_at:%Y-%m-%d}"


class Guidance(models.Model):
    """A lesson published to presales for one promise category; current until retired."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.PROTECT, related_name="guidance",
                                 verbose_name=_("category"))
    text = models.TextField(_("guidance"))
    improvement = models.ForeignKey("ImprovementItem", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="guidance", verbose_name=_("improvement item"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("published by"))
    published_at = models.DateTimeField(default=timezone.now, verbose_name=_("published at"))
    retired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("retired at"))
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("retired by"))
    retire_reason = models.TextField(_("why it was retired"), blank=True)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="supersedes", verbose_name=_("superseded by"))

    class Meta:
        ordering = ["category", "published_at", "id"]
        verbose_name = _("guidance")
        verbose_name_plural = _("guidance")
        indexes = [models.Index(fields=["category", "retired_at"])]

    def __str__(self) -> str:
        return self.text[:80]


class GuidanceAcknowledgement(models.Model):
    """Which guidance the promise's submitter acknowledged when submitting it."""

    promise = models.ForeignKey("promises.ServicePromise", on_delete=models.CASCADE,
                                related_name="guidance_acknowledgements", verbose_name=_("promise"))
    guidance = models.ForeignKey(Guidance, on_delete=models.PROTECT, related_name="acknowledgements",
        verbose_name=_("guidance"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("user"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["promise", "guidance"], name="guidance_ack_once")]
        verbose_name = _("guidance acknowledgement")
        verbose_name_plural = _("guidance acknowledgements")

    def __str__(self) -> str:
        return f"promise {self.promise_id} acknowledged guidance {self.guidance_id}"


class ImprovementState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    CHECKING = "checking", _("Checking")
    STANDARDIZED = "standardized", _("Standardized")
    REJECTED = "rejected", _("Rejected")
    ABANDONED = "abandoned", _("Abandoned")


class ImprovementOrigin(models.TextChoices):
    MANUAL = "manual", _("Proposed by a person")
    EARLY_WARNING = "early_warning", _("Early warning: category break rate")
    GATE_ESCAPE = "gate_escape", _("Gate escape rate")


I = ImprovementState  # noqa: E741
OPEN_IMPROVEMENT_STATES = [I.PROPOSED, I.ACCEPTED, I.PLANNED, I.IN_PROGRESS, I.CHECKING]
# From planned on, the item must carry its SMART plan; the database enforces it too.
PLANNED_STATES = [I.PLANNED, I.IN_PROGRESS, I.CHECKING, I.STANDARDIZED]


class ImprovementItem(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    state = FSMField(_("state"), default=I.PROPOSED, choices=ImprovementState.choices, protected=True,
                     db_index=True)
    origin = models.CharField(_("origin"), max_length=20, choices=ImprovementOrigin.choices,
                              default=ImprovementOrigin.MANUAL)
    # What raised an automatic proposal: used so it is proposed once while one is open.
    origin_category = models.ForeignKey("promises.PromiseCategory", on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+", verbose_name=_("origin category"))
    origin_definition = models.ForeignKey("qualitygates.GateDefinition", on_delete=models.SET_NULL, null=True,
                                          blank=True, related_name="+", verbose_name=_("origin definition"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("proposed by"))

    feedback = models.ManyToManyField(Feedback, blank=True, related_name="improvements",
                                      verbose_name=_("motivating feedback"))
    categories = models.ManyToManyField("promises.PromiseCategory", blank=True, related_name="improvements",
                                        verbose_name=_("affected categories"))
    gate_definitions = models.ManyToManyField("qualitygates.GateDefinition", blank=True,
                                              related_name="improvements", verbose_name=_("affected gates"))

    # Plan (SMART)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="owned_improvements", verbose_name=_("owner"))
    priority = models.CharField(_("priority"), max_length=10, choices=Severity.choices, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    budget = models.DecimalField(_("budget (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(0)])
    # Check (the measurements themselves are on the targets)
    measured_at = models.DateTimeField(null=True, blank=True, verbose_name=_("measured at"))
    check_note = models.TextField(_("check note"), blank=True)
    standardized_at = models.DateTimeField(null=True, blank=True, db_index=True,
        verbose_name=_("standardized at"))

    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("improvement item")
        verbose_name_plural = _("improvement items")
        constraints = [
            models.CheckConstraint(
                condition=~Q(state__in=PLANNED_STATES)
                | Q(owner__isnull=False, start_date__isnull=False, due_date__isnull=False, budget__isnull=False,
                    priority__gt=""),
                name="improvement_planned_is_smart",
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(due_date__isnull=True) | Q(due_date__gte=models.F("start_date")),
                name="improvement_due_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(state=I.STANDARDIZED) | Q(standardized_at__isnull=False, measured_at__isnull=False),
                name="improvement_standardized_is_measured",
            ),
            models.UniqueConstraint(
                fields=["origin", "origin_category"], condition=Q(state__in=OPEN_IMPROVEMENT_STATES,
                                                                  origin=ImprovementOrigin.EARLY_WARNING),
                name="improvement_one_open_early_warning_per_category",
            ),
            models.UniqueConstraint(
                fields=["origin", "origin_definition"], condition=Q(state__in=OPEN_IMPROVEMENT_STATES,
                                                                    origin=ImprovementOrigin.GATE_ESCAPE),
                name="improvement_one_open_escape_per_gate",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def target_text(self) -> str:
        return "; ".join(str(t) for t in self.targets.all())

    @property
    def target_met(self) -> bool | None:
        """Whether every target was reached by its deadline at the last check; None until all are judged."""
        results = [t.reached for t in self.targets.all()]
        if not results or None in results:
            return None
        return all(results)

    # --- transitions: bodies touch this row only; services own rules and side effects --------
    @transition(field=state, source=[I.PROPOSED], target=I.ACCEPTED)
    def accept(self) -> None:
        pass

    @transition(field=state, source=[I.PROPOSED, I.ACCEPTED], target=I.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=[I.ACCEPTED], target=I.PLANNED)
    def plan(self, **fields) -> None:
        for name, value in fields.items():
            setattr(self, name, value)

    @transition(field=state, source=[I.PLANNED], target=I.IN_PROGRESS)
    def start(self) -> None:
        pass

    @transition(field=state, source=[I.IN_PROGRESS], target=I.CHECKING)
    def check_effect(self, *, note: str, at) -> None:
        self.check_note = note
        self.measured_at = at

    @transition(field=state, source=[I.CHECKING], target=I.IN_PROGRESS)
    def rework(self) -> None:
        pass

    @transition(field=state, source=[I.CHECKING], target=I.STANDARDIZED)
    def standardize(self, *, at) -> None:
        self.standardized_at = at

    @transition(field=state, source=[I.ACCEPTED, I.PLANNED, I.IN_PROGRESS, I.CHECKING], target=I.ABANDONED)
    def abandon(self) -> None:
        pass


class ImprovementTransition(AppendOnlyModel):
    """Append-only trail of every state change of an improvement item."""

    item = models.ForeignKey(ImprovementItem, on_delete=models.PROTECT, related_name="trail",
        verbose_name=_("item"))
    action = models.CharField(max_length=40, verbose_name=_("action"))
    from_state = models.CharField(max_length=20, verbose_name=_("from state"))
    to_state = models.CharField(max_length=20, verbose_name=_("to state"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("improvement transition")
        verbose_name_plural = _("improvement trail")
        # Append-only in the database too (PostgreSQL): raw SQL cannot rewrite or remove history.
        triggers = [
            pgtrigger.Protect(name="improvement_trail_append_only",
                              operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"improvement {self.item_id}: {self.from_state} → {self.to_state} ({self.action})"



class TargetMeasure(models.TextChoices):
    """What the product measures for a target, over the target's scope and window."""

    KEEP_RATE = "keep_rate", _("keep rate of the verified promises (%)")
    MEDIAN_ACTUAL_VALUE = "median_actual_value", _("median actual value of the promises with the metric")
    MEDIAN_GATE_LEAD_TIME = "median_gate_lead_time", _("median gate lead time (working hours)")
    CSAT_AVERAGE = "csat_average", _("average CSAT score")
    NPS_AVERAGE = "nps_average", _("average NPS score")
    FEEDBACK_COUNT = "feedback_count", _("number of feedback of a kind")
    MANUAL = "manual", _("measured by hand (the product holds no data for it)")


class ImprovementTarget(models.Model):
    """One SMART target of an improvement item: a catalogue metric (so a unit and a direction), what the
    product measures for it over a scope and a window, baseline, target value and deadline — and the
    latest check's measurement, the product's (with the counts it rests on) next to a value typed by hand."""

    item = models.ForeignKey(ImprovementItem, on_delete=models.CASCADE, related_name="targets",
        verbose_name=_("item"))
    metric = models.ForeignKey("promises.Metric", on_delete=models.PROTECT, related_name="improvement_targets",
                               verbose_name=_("metric"))
    measure = models.CharField(_("measured as"), max_length=30, choices=TargetMeasure.choices,
                               default=TargetMeasure.MANUAL)
    categories = models.ManyToManyField("promises.PromiseCategory", blank=True, related_name="+",
                                        verbose_name=_("scope: categories"))
    gate_definition = models.ForeignKey("qualitygates.GateDefinition", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+", verbose_name=_("scope: gate"))
    channel = models.CharField(_("scope: feedback channel"), max_length=20, choices=FeedbackChannel.choices,
                               blank=True)
    feedback_kind = models.CharField(_("feedback kind counted"), max_length=20, choices=FeedbackKind.choices,
                                     blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=3)
    target_value = models.DecimalField(_("target value"), max_digits=14, decimal_places=3)
    deadline = models.DateField(_("deadline"))
    window_days = models.PositiveSmallIntegerField(
        _("measurement window (days)"), default=90, validators=[MinValueValidator(1)],
        help_text=_("The measurement covers this many days up to the check (at the latest the deadline)."))
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    # The latest check.
    product_value = models.DecimalField(_("measured by the product"), max_digits=14, decimal_places=3,
                                        null=True, blank=True)
    product_counts = models.JSONField(_("counts the measurement rests on"), default=dict, blank=True)
    manual_value = models.DecimalField(_("measured by hand"), max_digits=14, decimal_places=3, null=True,
                                       blank=True)
    window_start = models.DateTimeField(null=True, blank=True, verbose_name=_("window start"))
    window_end = models.DateTimeField(null=True, blank=True, verbose_name=_("window end"))
    measured_at = models.DateTimeField(null=True, blank=True, verbose_name=_("measured at"))
    reached = models.BooleanField(_("reached by the deadline"), null=True, blank=True)

    class Meta:
        ordering = ["item", "order", "id"]
        verbose_name = _("improvement target")
        verbose_name_plural = _("improvement targets")
        constraints = [
            models.CheckConstraint(condition=~Q(target_value=models.F("baseline")),
                                   name="improvement_target_is_a_change"),
            models.CheckConstraint(condition=~Q(measure="feedback_count") | ~Q(feedback_kind=""),
                                   name="improvement_target_count_names_kind"),
        ]

    def __str__(self) -> str:
        return (f"{self.metric.display_name} {self.baseline.normalize():f} → {self.target_value.normalize():f} "
                f"{self.metric.unit} by {self.deadline:%Y-%m-%d}")

    @property
    def measured_value(self):
        """The value the check judges by: the product's measurement where it has one, else the hand's."""
        return self.product_value if self.product_value is not None else self.manual_value


# Summary rows (feedback/services/summaries.py); defined apart so this module stays readable.
from .summary_models import FeedbackMonth  # noqa: E402,F401
