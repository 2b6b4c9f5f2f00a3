"""The log of personal-data exports and erasures (promises/personal_data.py writes it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel


class PersonalDataAction(models.TextChoices):
    EXPORT = "export", _("Export")
    ERASE = "erase", _("Erasure")


class PersonalDataLog(AppendOnlyModel):
    """Who exported or erased a customer contact's personal data, and when (GDPR art. 15 and 17).
    It holds no personal data itself: the customer's id and counts of what was found or changed."""

    customer = models.ForeignKey("promises.Customer", on_delete=models.PROTECT, related_name="personal_data_log",
        verbose_name=_("customer"))
    action = models.CharField(max_length=10, choices=PersonalDataAction.choices, verbose_name=_("action"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("actor"))
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))
    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("personal data record")
        verbose_name_plural = _("personal data log")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · customer #{self.customer_id} · {self.at:%Y-%m-%d %H:%M}"
