from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualitygatesConfig(AppConfig):
    name = "qualitygates"
    verbose_name = _("Service quality gates")
