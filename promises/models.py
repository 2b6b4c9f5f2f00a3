"""Customers, promise categories, service promises and their append-only transition trail."""

from __future__ import annotations

import secrets

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core.models import AppendOnlyModel, in_active_language

from .trail_chain import GENESIS, chain_hash
from .units import unit_label


class Department(models.TextChoices):
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    PRESALES = "presales", _("Presales")


class PromiseChannel(models.TextChoices):
    OFFER = "offer", _("Offer")
    CONTRACT = "contract", _("Contract")
    CAMPAIGN = "campaign", _("Campaign")
    CALL = "call", _("Call")
    WEB = "web", _("Website")
    SOCIAL_MEDIA = "social_media", _("Social media")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")


class Comparison(models.TextChoices):
    AT_MOST = "lte", _("≤")
    AT_LEAST = "gte", _("≥")
    EXACTLY = "eq", _("=")

    def is_kept(self, actual, target) -> bool:
        if self == Comparison.AT_MOST:
            return actual <= target
        if self == Comparison.AT_LEAST:
            return actual >= target
        return actual == target


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    segment = models.CharField(_("segment"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="de")
    crm_reference = models.CharField(_("CRM reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    # Set when the contact's personal data was erased (promises/personal_data.py): the row stays for
    # its promises and statistics, under a pseudonym.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class PromiseCategory(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_de = models.TextField(_("description (German)"), blank=True)
    interim_notice_days = models.PositiveSmallIntegerField(
        _("interim notice after (days)"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Days without a customer-visible update before the customer gets an interim notice."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("promise category")
        verbose_name_plural = _("promise categories")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return in_active_language(self.name, self.name_de)

    @property
    def display_description(self) -> str:
        return in_active_language(self.description, self.description_de)


class MetricDirection(models.TextChoices):
    LOWER_IS_BETTER = "lower", _("lower is better")
    HIGHER_IS_BETTER = "higher", _("higher is better")


class MetricKind(models.TextChoices):
    WORKING_HOURS = "working_hours", _("duration in working hours")
    CALENDAR_DAYS = "calendar_days", _("duration in calendar days")
    PERCENTAGE = "percentage", _("percentage")
    COUNT = "count", _("count")
    SCORE = "score", _("score")
    MONEY = "money", _("money")


class Metric(models.Model):
    """A measurable quantity from the catalogue managers keep: promises and improvement targets that
    share a metric can be compared with each other and with what delivery actually achieved."""

    name = models.CharField(_("name (English)"), max_length=120, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120, blank=True)
    unit = models.CharField(_("unit"), max_length=30, help_text=_("e.g. h, working days, %, min"))
    unit_de = models.CharField(_("unit (German)"), max_length=30, blank=True, help_text=_("e.g. Arbeitstage"))
    direction = models.CharField(_("direction"), max_length=6, choices=MetricDirection.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=MetricKind.choices)
    categories = models.ManyToManyField(PromiseCategory, related_name="metrics", blank=True,
                                        verbose_name=_("categories"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.display_unit})"

    @property
    def display_name(self) -> str:
        return in_active_language(self.name, self.name_de)

    @property
    def display_unit(self) -> str:
        # The German copy a manager typed wins; else the usual worded units read in the reader's
        # language (promises/units.py); symbols stay as they are.
        return in_active_language(self.unit, self.unit_de) if self.unit_de else unit_label(self.unit)

    def allows(self, comparison: str) -> bool:
        """A comparison points the way the metric improves: at most a value where lower is better,
        at least one where higher is better; exactly fits both."""
        if comparison == Comparison.EXACTLY:
            return True
        return comparison == (Comparison.AT_MOST if self.direction == MetricDirection.LOWER_IS_BETTER
                              else Comparison.AT_LEAST)


class PromiseState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    REWORK = "rework", _("Rework")
    APPROVED = "approved", _("Approved")
    COMMITTED = "committed", _("Committed")
    IN_DELIVERY = "in_delivery", _("In delivery")
    FULFILLED = "fulfilled", _("Fulfilled")
    BROKEN = "broken", _("Broken")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    ON_HOLD = "on_hold", _("On hold")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = PromiseState

STATUS_TOKEN_BYTES = 32


def new_status_token() -> str:
    """A customer status link's secret (promises/status_link.py); also named by early migrations."""
    return secrets.token_urlsafe(STATUS_TOKEN_BYTES)
# States a gate may pause, and so the states a resume may return to.
HOLDABLE_STATES = [S.IN_REVIEW, S.COMMITTED, S.FULFILLED, S.BROKEN]
# Before commitment the owner may still pull the promise back.
WITHDRAWABLE_STATES = [S.DRAFT, S.IN_REVIEW, S.REWORK, S.APPROVED]
# A lapsed condition of a conditional go sends these back to rework.
CONDITION_LAPSE_STATES = [S.IN_REVIEW, S.APPROVED, S.COMMITTED, S.IN_DELIVERY]


class ServicePromise(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        PromiseCategory, on_delete=models.PROTECT, related_name="promises", verbose_name=_("category")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="promises",
        verbose_name=_("customer"),
    )
    customer_segment = models.CharField(
        _("customer segment"), max_length=100, blank=True,
        help_text=_("For a marketing promise made to a segment rather than one customer."),
    )
    origin_department = models.CharField(_("origin department"), max_length=20, choices=Department.choices)
    channel = models.CharField(_("channel made on"), max_length=20, choices=PromiseChannel.choices)
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="promises",
        verbose_name=_("metric"),
                               help_text=_("From the catalogue of the promise's category."))
    comparison = models.CharField(_("comparison"), max_length=3, choices=Comparison.choices,
                                  default=Comparison.AT_MOST)
    target_value = models.DecimalField(_("target value"), max_digits=14, decimal_places=3)
    due_date = models.DateField(_("due date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_promises",
        verbose_name=_("owner"),
    )
    crm_reference = models.CharField(_("CRM reference"), max_length=100, blank=True)
    deal_value = models.DecimalField(_("deal value (EUR)"), max_digits=14, decimal_places=2,
                                     null=True, blank=True, validators=[MinValueValidator(0)])

    state = FSMField(_("state"), default=S.DRAFT, choices=PromiseState.choices, protected=True,
                     db_index=True)
    state_before_hold = models.CharField(max_length=20, choices=PromiseState.choices, blank=True,
        verbose_name=_("state before hold"))
    rework_rounds = models.PositiveIntegerField(_("rework rounds"), default=0)
    gate_plan = models.ForeignKey(
        "qualitygates.GatePlan", on_delete=models.PROTECT, null=True, blank=True, related_name="promises",
        help_text=_("The plan version this promise was submitted with; its gates are a snapshot of it."),
        verbose_name=_("gate plan"),
    )
    actual_value = models.DecimalField(_("actual value"), max_digits=14, decimal_places=3, null=True, blank=True)
    outcome_reason = models.TextField(_("outcome reason"), blank=True)
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified at"))
    # The customer's status link (promises/status_link.py): issued at commitment, revocable, re-issuable.
    # Null while there is none; the token itself is random and unique, never derived from the promise.
    status_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False,
        verbose_name=_("status token"))
    customer_visible_at = models.DateTimeField(
        _("customer visible at"), default=timezone.now,
        help_text=_("When the customer last saw an update (state label change or interim notice)."))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("service promise")
        verbose_name_plural = _("service promises")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(customer_segment=""),
                name="promise_has_customer_or_segment",
            ),
        ]
        indexes = [models.Index(fields=["category", "state"]), models.Index(fields=["category", "verified_at"]),
                   # the lists' default order and their most used filters, first page by index (issue 13)
                   models.Index(fields=["-created_at", "-id"], name="promise_newest_first"),
                   models.Index(fields=["state", "-created_at"], name="promise_state_newest"),
                   models.Index(fields=["category", "-created_at"], name="promise_category_newest"),
                   # the summaries' partial-day edges (feedback/selectors/windows.py)
                   models.Index(fields=["verified_at"], name="promise_verified_at")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def clean(self) -> None:
        if self.customer_id is None and not self.customer_segment:
            raise ValidationError(_("A promise is made to a customer or, for marketing, a customer segment."))

    @property
    def unit(self) -> str:
        """A promise states its target in its metric's unit: the catalogue keeps the one copy."""
        return self.metric.unit

    @property
    def commitment(self) -> str:
        return (f"{self.metric.display_name} {self.get_comparison_display()} {self.target_value.normalize():f} "
                f"{self.metric.display_unit}")

    # --- transitions: bodies touch this row only; services own the side effects -------------
    @transition(field=state, source=[S.DRAFT], target=S.IN_REVIEW)
    def submit(self) -> None:
        pass

    @transition(field=state, source=[S.REWORK], target=S.IN_REVIEW)
    def resubmit(self) -> None:
        pass

    @transition(field=state, source=[S.IN_REVIEW], target=S.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=[S.IN_REVIEW, S.COMMITTED], target=S.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=HOLDABLE_STATES, target=S.ON_HOLD)
    def hold(self) -> None:
        self.state_before_hold = self.state

    @transition(field=state, source=[S.ON_HOLD], target=RETURN_VALUE(*HOLDABLE_STATES))
    def resume(self) -> str:
        previous, self.state_before_hold = self.state_before_hold, ""
        return previous

    @transition(field=state, source=CONDITION_LAPSE_STATES, target=S.REWORK)
    def send_to_rework(self) -> None:
        self.rework_rounds += 1

    def _held_before_commitment(self) -> bool:
        return self.state != S.ON_HOLD or self.state_before_hold == S.IN_REVIEW

    @transition(field=state, source=[*WITHDRAWABLE_STATES, S.ON_HOLD], target=S.WITHDRAWN,
                conditions=[_held_before_commitment])
    def withdraw(self) -> None:
        self.state_before_hold = ""

    @transition(field=state, source=[S.APPROVED], target=S.COMMITTED)
    def commit(self) -> None:
        pass

    @transition(field=state, source=[S.COMMITTED], target=S.IN_DELIVERY)
    def start_delivery(self) -> None:
        pass

    @transition(field=state, source=[S.IN_DELIVERY], target=RETURN_VALUE(S.FULFILLED, S.BROKEN))
    def verify(self, *, actual_value, reason: str, at) -> str:
        self.actual_value = actual_value
        self.outcome_reason = reason
        self.verified_at = at
        return S.FULFILLED if self.kept else S.BROKEN

    @property
    def kept(self) -> bool | None:
        """Was the promise kept? None until it is verified. The SQL form is `promises.outcomes.kept_q`."""
        if self.actual_value is None:
            return None
        return Comparison(self.comparison).is_kept(self.actual_value, self.target_value)

    @transition(field=state, source=[S.FULFILLED, S.BROKEN], target=S.IN_DELIVERY)
    def reopen_verification(self) -> None:
        self.actual_value = None
        self.verified_at = None

    @transition(field=state, source=[S.FULFILLED, S.BROKEN], target=S.CLOSED)
    def close(self) -> None:
        pass


class TrailSubject(models.TextChoices):
    PROMISE = "promise", _("Promise")
    GATE = "gate", _("Gate review")
    CONDITION = "condition", _("Gate condition")
    STATUS_LINK = "link", _("Customer status link")


class TransitionLog(AppendOnlyModel):
    """Append-only trail of every state change of a promise or one of its gate reviews."""

    subject = models.CharField(max_length=10, choices=TrailSubject.choices, default=TrailSubject.PROMISE,
        verbose_name=_("subject"))
    promise = models.ForeignKey(ServicePromise, on_delete=models.PROTECT, related_name="trail",
        verbose_name=_("promise"))
    gate_review = models.ForeignKey(
        "qualitygates.GateReview", on_delete=models.PROTECT, null=True, blank=True, related_name="trail",
            verbose_name=_("gate review")
    )
    action = models.CharField(max_length=40, verbose_name=_("action"))
    from_state = models.CharField(max_length=20, verbose_name=_("from state"))
    to_state = models.CharField(max_length=20, verbose_name=_("to state"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))
    # sha256 over the previous row's hash (of the same promise, by id) and this row (trail_chain.py).
    chain_hash = models.CharField(max_length=64, editable=False, default="", verbose_name=_("chain hash"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transition trail")
        # Append-only in the database too (PostgreSQL): raw SQL cannot rewrite or remove history.
        triggers = [
            pgtrigger.Protect(name="trail_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        subject = f"gate {self.gate_review_id}" if self.gate_review_id else f"promise {self.promise_id}"
        return f"{subject}: {self.from_state} → {self.to_state} ({self.action})"

    def compute_hash(self, previous: str) -> str:
        return chain_hash(previous, promise_id=self.promise_id, subject=self.subject,
                          gate_review_id=self.gate_review_id, action=self.action, from_state=self.from_state,
                          to_state=self.to_state, actor_id=self.actor_id, comment=self.comment, at=self.at)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            super().save(*args, **kwargs)  # refused by AppendOnlyModel
            return
        with transaction.atomic():
            # The promise's row lock orders its trail: the previous row read here is the last one.
            # (The services already hold it; taking it again in the same transaction costs nothing.)
            ServicePromise.objects.select_for_update().filter(pk=self.promise_id).values_list("pk").first()
            previous = (TransitionLog.objects.filter(promise_id=self.promise_id).order_by("-id")
                        .values_list("chain_hash", flat=True).first())
            self.chain_hash = self.compute_hash(GENESIS if previous is None else previous)
            super().save(*args, **kwargs)



class CustomerNoticeKind(models.TextChoices):
    INTERIM = "interim", _("Interim notice")


class CustomerNotice(models.Model):
    """A notice sent to the customer outside a state change: part of the promise's customer timeline,
    written by the interim-notice clock (promises/clock.py) with the outbox event that delivers it."""

    promise = models.ForeignKey(ServicePromise, on_delete=models.CASCADE, related_name="customer_notices",
        verbose_name=_("promise"))
    kind = models.CharField(max_length=20, choices=CustomerNoticeKind.choices, default=CustomerNoticeKind.INTERIM,
        verbose_name=_("kind"))
    event = models.OneToOneField("notifications.OutboxEvent", on_delete=models.PROTECT, related_name="customer_notice",
        verbose_name=_("event"))
    email = models.EmailField(verbose_name=_("email"))
    language = models.CharField(max_length=8, verbose_name=_("language"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("customer notice")
        verbose_name_plural = _("customer notices")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · promise #{self.promise_id} · {self.created_at:%Y-%m-%d}"


# The personal-data log (promises/personal_data_models.py) and the summary rows
# (promises/summaries.py) are defined apart so this module stays readable.
from .personal_data_models import PersonalDataAction, PersonalDataLog  # noqa: E402,F401
from .summary_models import BrokenReasonDay, PromiseDay  # noqa: E402,F401
