"""Production settings do what the README says: read in a subprocess with a controlled environment."""

from __future__ import annotations

from tests.ops.conftest import production_setting

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def test_email_backend_is_used_when_email_url_is_unset():
    assert production_setting("EMAIL_BACKEND", EMAIL_BACKEND=FILE_BACKEND) == FILE_BACKEND
    assert production_setting("EMAIL_FILE_PATH", EMAIL_BACKEND=FILE_BACKEND,
                              EMAIL_FILE_PATH="/srv/sqg/mail") == "/srv/sqg/mail"


def test_email_url_wins_when_set():
    environment = {"EMAIL_BACKEND": FILE_BACKEND, "EMAIL_URL": "smtp://mailer:secret@mail.internal:2525"}
    assert production_setting("EMAIL_BACKEND", **environment) == SMTP_BACKEND
    assert production_setting("EMAIL_HOST", **environment) == "mail.internal"
    assert production_setting("EMAIL_PORT", **environment) == 2525
    assert production_setting("EMAIL_HOST_USER", **environment) == "mailer"


def test_email_url_to_a_folder_sets_the_file_backend_and_its_path():
    environment = {"EMAIL_URL": "filemail:///srv/sqg/mail"}
    assert production_setting("EMAIL_BACKEND", **environment) == FILE_BACKEND
    assert production_setting("EMAIL_FILE_PATH", **environment) == "/srv/sqg/mail"


def test_neither_variable_means_smtp():
    assert production_setting("EMAIL_BACKEND") == SMTP_BACKEND


def test_outbox_sweep_interval_lease_and_grace_come_from_the_environment():
    environment = {"NOTIFICATIONS_SWEEP_INTERVAL_SECONDS": "30", "NOTIFICATIONS_LEASE_SECONDS": "90",
                   "NOTIFICATIONS_SWEEP_GRACE_SECONDS": "45"}
    schedule = production_setting("CELERY_BEAT_SCHEDULE", **environment)
    assert schedule["notifications-outbox-sweep"]["schedule"] == 30
    assert production_setting("NOTIFICATIONS_LEASE_SECONDS", **environment) == 90
    assert production_setting("NOTIFICATIONS_SWEEP_GRACE_SECONDS", **environment) == 45
    # documented defaults
    assert production_setting("CELERY_BEAT_SCHEDULE")["notifications-outbox-sweep"]["schedule"] == 60
    assert production_setting("NOTIFICATIONS_LEASE_SECONDS") == 120
    assert production_setting("NOTIFICATIONS_SWEEP_GRACE_SECONDS") == 60


def test_production_cache_fails_open():
    assert production_setting("CACHES")["default"]["BACKEND"] == "core.cache.FailOpenRedisCache"
