from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set (`manage.py seed_demo`); it has no models and nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
