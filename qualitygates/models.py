"""Gate plans, gate definitions and criteria, working calendars, and gate reviews."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import in_active_language


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from exc


def validate_weekdays(value: str) -> None:
    try:
        days = [int(d) for d in value.split(",") if d.strip()]
    except ValueError as exc:
        raise ValidationError(_("Working days are weekday numbers 0 (Monday) to 6 (Sunday), comma separated.")) from exc
    if not days or any(d < 0 or d > 6 for d in days):
        raise ValidationError(_("Working days are weekday numbers 0 (Monday) to 6 (Sunday), comma separated."))


class WorkingCalendar(models.Model):
    """The working time of a team: gate time limits count in it."""

    team = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="working_calendar",
        verbose_name=_("team"))
    time_zone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_timezone],
        verbose_name=_("time zone"))
    working_days = models.CharField(
        max_length=20, default="0,1,2,3,4", validators=[validate_weekdays],
        help_text=_("Weekday numbers, 0 = Monday … 6 = Sunday."), verbose_name=_("working days"),
    )
    day_starts = models.TimeField(default=dt.time(8, 0), verbose_name=_("day starts"))
    day_ends = models.TimeField(default=dt.time(17, 0), verbose_name=_("day ends"))
    holiday_country = models.CharField(max_length=2, default="DE", blank=True,
                                       help_text=_("ISO country code for public holidays; empty for none."),
                                           verbose_name=_("holiday country"))
    holiday_subdivision = models.CharField(max_length=10, blank=True,
                                           help_text=_("State, e.g. BY for Bavaria or NW for North Rhine-Westphalia."),
                                               verbose_name=_("holiday subdivision"))

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return f"{self.team.name}: {self.day_starts:%H:%M}–{self.day_ends:%H:%M}"

    def clean(self) -> None:
        if self.day_ends <= self.day_starts:
            raise ValidationError(_("The working day must end after it starts."))
        if self.holiday_country:
            import holidays

            try:
                holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision or None)
            except NotImplementedError as exc:
                raise ValidationError(str(exc)) from exc


class CalendarClosure(models.Model):
    """A team's own non-working day (company holiday, works outing) on top of public holidays."""

    calendar = models.ForeignKey(WorkingCalendar, on_delete=models.CASCADE, related_name="closures",
        verbose_name=_("calendar"))
    date = models.DateField(verbose_name=_("date"))
    name = models.CharField(max_length=100, verbose_name=_("name"))

    class Meta:
        unique_together = [("calendar", "date")]
        ordering = ["date"]
        verbose_name = _("calendar closure")
        verbose_name_plural = _("calendar closures")

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class GateStep(models.TextChoices):
    """The lifecycle step a gate guards."""

    APPROVAL = "approval", _("Before approval")
    DELIVERY = "delivery", _("Before delivery")
    CLOSURE = "closure", _("Before closure")


STEP_ORDER = [GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE]


class GatePlan(models.Model):
    """The ordered gates a promise category goes through. Promises keep a snapshot of it."""

    category = models.ForeignKey("promises.PromiseCategory", on_delete=models.PROTECT,
                                 related_name="gate_plans", verbose_name=_("category"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    name = models.CharField(max_length=150, verbose_name=_("name"))
    change_note = models.TextField(blank=True, verbose_name=_("change note"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ["category__name", "-version"]
        unique_together = [("category", "version")]
        verbose_name = _("gate plan")
        verbose_name_plural = _("gate plans")

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class GateDefinition(models.Model):
    plan = models.ForeignKey(GatePlan, on_delete=models.CASCADE, related_name="definitions",
        verbose_name=_("plan"))
    order = models.PositiveSmallIntegerField(default=1, verbose_name=_("order"))
    name = models.CharField(max_length=150, verbose_name=_("name"))
    name_de = models.CharField(max_length=150, blank=True, verbose_name=_("name (German)"))
    step = models.CharField(max_length=20, choices=GateStep.choices, verbose_name=_("step"))
    owning_team = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="owned_gates",
        verbose_name=_("owning team"))
    decision_hours = models.PositiveIntegerField(
        _("decision time limit (working hours)"), validators=[MinValueValidator(1)], default=16,
    )
    description = models.TextField(blank=True, verbose_name=_("description"))

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("gate definition")
        verbose_name_plural = _("gate definitions")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_step_display()})"

    @property
    def display_name(self) -> str:
        return in_active_language(self.name, self.name_de)


class Requirement(models.TextChoices):
    MUST = "must", _("Must meet")
    SHOULD = "should", _("Should meet")


class CriterionKind(models.TextChoices):
    MANUAL = "manual", _("Checked by the gatekeeper")
    EVIDENCE = "evidence", _("Evidence: target achieved by a minimum share of comparable promises")


SHARE_VALIDATORS = [MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("1"))]


def evidence_share_matches_kind(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(models.Q(kind=CriterionKind.MANUAL, evidence_min_share__isnull=True)
                   | models.Q(kind=CriterionKind.EVIDENCE, evidence_min_share__gt=0, evidence_min_share__lte=1)),
        name=f"{prefix}_evidence_share_matches_kind")


class GateCriterion(models.Model):
    definition = models.ForeignKey(GateDefinition, on_delete=models.CASCADE, related_name="criteria",
        verbose_name=_("definition"))
    order = models.PositiveSmallIntegerField(default=1, verbose_name=_("order"))
    text = models.CharField(max_length=300, verbose_name=_("text"))
    text_de = models.CharField(max_length=300, blank=True, verbose_name=_("text (German)"))
    requirement = models.CharField(max_length=10, choices=Requirement.choices, default=Requirement.MUST,
        verbose_name=_("requirement"))
    weight = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(100)],
        verbose_name=_("weight"))
    kind = models.CharField(_("kind"), max_length=10, choices=CriterionKind.choices, default=CriterionKind.MANUAL)
    evidence_min_share = models.DecimalField(
        _("minimum share (evidence)"), max_digits=4, decimal_places=3, null=True, blank=True,
        validators=SHARE_VALIDATORS,
        help_text=_("For an evidence criterion: the share of comparable promises (0 to 1, e.g. 0.8) that must "
                    "have achieved the promise's target."))

    class Meta:
        ordering = ["definition", "order", "id"]
        verbose_name = _("gate criterion")
        verbose_name_plural = _("gate criteria")
        constraints = [evidence_share_matches_kind("criterion")]

    def __str__(self) -> str:
        return f"[{self.requirement}] {self.display_text}"

    @property
    def display_text(self) -> str:
        return in_active_language(self.text, self.text_de)

    def clean(self) -> None:
        if (self.kind == CriterionKind.EVIDENCE) != (self.evidence_min_share is not None):
            raise ValidationError(_("An evidence criterion needs a minimum share; a manual one has none."))


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Pending")
    OPEN = "open", _("Open")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    ON_HOLD = "on_hold", _("On hold")
    RECYCLED = "recycled", _("Recycled")
    CANCELLED = "cancelled", _("Cancelled")


class Decision(models.TextChoices):
    # In context: Django's admin catalogue translates a bare "Go" (its action button) as "Ausführen",
    # and it is found before ours.
    GO = "go", pgettext_lazy("gate decision", "Go")
    KILL = "kill", pgettext_lazy("gate decision", "Kill")
    HOLD = "hold", pgettext_lazy("gate decision", "Hold")
    RECYCLE = "recycle", pgettext_lazy("gate decision", "Recycle")


R = ReviewState


class GateReview(ConcurrentTransitionMixin, models.Model):
    """One gate's run for one promise: a snapshot of its definition at submission."""

    promise = models.ForeignKey("promises.ServicePromise", on_delete=models.CASCADE, related_name="gate_reviews",
        verbose_name=_("promise"))
    definition = models.ForeignKey(GateDefinition, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="reviews", verbose_name=_("definition"))
    round = models.PositiveIntegerField(default=1, help_text=_("Submission round (1 + rework rounds)."),
        verbose_name=_("round"))
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    name = models.CharField(max_length=150, verbose_name=_("name"))
    name_de = models.CharField(max_length=150, blank=True, verbose_name=_("name (German)"))
    step = models.CharField(max_length=20, choices=GateStep.choices, verbose_name=_("step"))
    owning_team = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="gate_reviews",
        verbose_name=_("owning team"))
    decision_hours = models.PositiveIntegerField(verbose_name=_("decision hours"))

    state = FSMField(default=R.PENDING, choices=ReviewState.choices, protected=True, db_index=True,
        verbose_name=_("state"))
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opened at"))
    due_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("due at"))
    hold_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hold started at"))
    remaining_seconds_at_hold = models.IntegerField(null=True, blank=True,
        verbose_name=_("remaining seconds at hold"))
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True,
        verbose_name=_("decision"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="gate_decisions", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    evidence = models.JSONField(
        null=True, blank=True, editable=False,
        help_text=_("What delivery achieved on the promise's metric when the gate opened: the figures the "
                    "gatekeeper saw, kept as they were."), verbose_name=_("evidence"))

    class Meta:
        ordering = ["promise", "round", "order", "id"]
        verbose_name = _("gate review")
        verbose_name_plural = _("gate reviews")
        indexes = [models.Index(fields=["owning_team", "state"]),
                   # the open-gate queue of a team, by due time (issue 13)
                   models.Index(fields=["owning_team", "due_at", "id"], name="gate_open_queue",
                                condition=models.Q(state="open")),
                   # the dashboard's overdue gates, longest overdue first, whatever the team, and its count of
                   # the gates waiting now per gate and team (read from the index alone): open gates only
                   # (key columns, not INCLUDE: SQLite in development has no INCLUDE and would warn)
                   models.Index(fields=["due_at", "id", "owning_team", "name", "step", "promise"],
                                name="gate_open_by_due", condition=models.Q(state="open")),
                   # the dashboard's lead times: the passed gates at the edges of a range, by decision time
                   models.Index(fields=["decided_at"], name="gate_passed_decided_at",
                                condition=models.Q(state="passed"))]

    def __str__(self) -> str:
        return f"{self.display_name} · promise #{self.promise_id} (round {self.round})"

    @property
    def display_name(self) -> str:
        """The gate's name in the reader's language (a snapshot, like the English one)."""
        return in_active_language(self.name, self.name_de)

    @property
    def is_overdue(self) -> bool:
        return self.state == R.OPEN and self.due_at is not None and self.due_at < timezone.now()

    @transition(field=state, source=[R.PENDING], target=R.OPEN)
    def open(self, *, now, due_at) -> None:
        self.opened_at = now
        self.due_at = due_at

    @transition(field=state, source=[R.OPEN], target=R.PASSED)
    def go(self, *, user, now, comment: str) -> None:
        self._record_decision(Decision.GO, user, now, comment)

    @transition(field=state, source=[R.OPEN], target=R.FAILED)
    def kill(self, *, user, now, comment: str) -> None:
        self._record_decision(Decision.KILL, user, now, comment)

    @transition(field=state, source=[R.OPEN], target=R.ON_HOLD)
    def hold(self, *, user, now, comment: str, remaining_seconds: int) -> None:
        self._record_decision(Decision.HOLD, user, now, comment)
        self.hold_started_at = now
        self.remaining_seconds_at_hold = remaining_seconds

    @transition(field=state, source=[R.ON_HOLD], target=R.OPEN)
    def resume(self, *, due_at) -> None:
        self.due_at = due_at
        self.hold_started_at = None
        self.remaining_seconds_at_hold = None
        self.decision = ""
        self.decided_by = None
        self.decided_at = None

    @transition(field=state, source=[R.OPEN], target=R.RECYCLED)
    def recycle(self, *, user, now, comment: str) -> None:
        self._record_decision(Decision.RECYCLE, user, now, comment)

    @transition(field=state, source=[R.PENDING, R.OPEN, R.ON_HOLD], target=R.CANCELLED)
    def cancel(self) -> None:
        pass

    def _record_decision(self, decision, user, now, comment) -> None:
        self.decision = decision
        self.decided_by = user
        self.decided_at = now
        self.comment = comment


class CheckResult(models.TextChoices):
    UNCHECKED = "", _("Not checked")
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")
    NOT_APPLICABLE = "na", _("Not applicable")


class GateCheck(models.Model):
    """One criterion of a gate review, copied from the plan at submission."""

    review = models.ForeignKey(GateReview, on_delete=models.CASCADE, related_name="checks",
        verbose_name=_("review"))
    criterion = models.ForeignKey(GateCriterion, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="checks", verbose_name=_("criterion"))
    order = models.PositiveSmallIntegerField(default=1, verbose_name=_("order"))
    text = models.CharField(max_length=300, verbose_name=_("text"))
    text_de = models.CharField(max_length=300, blank=True, verbose_name=_("text (German)"))
    requirement = models.CharField(max_length=10, choices=Requirement.choices, verbose_name=_("requirement"))
    weight = models.PositiveSmallIntegerField(default=1, verbose_name=_("weight"))
    kind = models.CharField(max_length=10, choices=CriterionKind.choices, default=CriterionKind.MANUAL,
        verbose_name=_("kind"))
    evidence_min_share = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True,
                                             validators=SHARE_VALIDATORS,
                                                 verbose_name=_("evidence min share"))
    result = models.CharField(max_length=10, choices=CheckResult.choices, blank=True, default="",
        verbose_name=_("result"))
    prefilled_result = models.CharField(
        max_length=10, choices=CheckResult.choices, blank=True, default="",
        help_text=_("The result the product pre-filled from the evidence when the gate opened."),
            verbose_name=_("prefilled result"))
    note = models.TextField(blank=True, verbose_name=_("note"))

    class Meta:
        ordering = ["review", "order", "id"]
        constraints = [evidence_share_matches_kind("check")]
        verbose_name = _("gate check")
        verbose_name_plural = _("gate checks")

    def __str__(self) -> str:
        return f"{self.display_text}: {self.get_result_display()}"

    @property
    def display_text(self) -> str:
        return in_active_language(self.text, self.text_de)

    @property
    def overridden(self) -> bool:
        """The gatekeeper decided against the pre-filled evidence result (the trail has the reason)."""
        return bool(self.prefilled_result) and self.result != self.prefilled_result


class ConditionState(models.TextChoices):
    OPEN = "open", _("Open")
    MET = "met", _("Met")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")


class GateCondition(ConcurrentTransitionMixin, models.Model):
    """A condition of a conditional go: it must be met by its due time or the promise goes to rework."""

    review = models.ForeignKey(GateReview, on_delete=models.CASCADE, related_name="conditions",
        verbose_name=_("review"))
    description = models.CharField(max_length=300, verbose_name=_("description"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gate_conditions",
        verbose_name=_("owner"))
    due_at = models.DateTimeField(db_index=True, verbose_name=_("due at"))
    state = FSMField(default=ConditionState.OPEN, choices=ConditionState.choices, protected=True,
        verbose_name=_("state"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("resolved by"))
    note = models.TextField(blank=True, verbose_name=_("note"))

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("gate condition")
        verbose_name_plural = _("gate conditions")

    def __str__(self) -> str:
        return self.description

    @transition(field=state, source=[ConditionState.OPEN], target=ConditionState.MET)
    def meet(self, *, user, now, note: str) -> None:
        self.resolved_at, self.resolved_by, self.note = now, user, note

    @transition(field=state, source=[ConditionState.OPEN], target=ConditionState.LAPSED)
    def lapse(self, *, now) -> None:
        self.resolved_at = now

    @transition(field=state, source=[ConditionState.OPEN], target=ConditionState.CANCELLED)
    def cancel(self, *, now) -> None:
        self.resolved_at = now


# Summary rows (qualitygates/summaries.py); defined apart so this module stays readable.
from .summary_models import GateEscapeReason, GateEscapeTally, GateLeadTimeMonth  # noqa: E402,F401
