from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The product's own pages for every role (the admin stays for configuration and operations)."""

    name = "web"
    verbose_name = _("Workplace")
