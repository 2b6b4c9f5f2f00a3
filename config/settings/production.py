"""Production: PostgreSQL and Redis from the environment, no default secrets."""

from urllib.parse import urlsplit

from .base import *  # noqa: F401,F403
from .base import env, redis_cache

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuse to start without one
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=None) or env("REDIS_URL")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# One variable chooses where e-mail goes: EMAIL_URL when it is set (smtp://user:password@host:587,
# smtp+tls://…, smtp+ssl://…, filemail:///path, consolemail://, dummymail://), else EMAIL_BACKEND
# (a dotted backend path; EMAIL_FILE_PATH for the file backend). Neither: SMTP on localhost:25.
if env("EMAIL_URL", default=""):
    # Only what the URL says: an SMTP URL has no path (EMAIL_FILE_PATH stays), a console URL no host.
    EMAIL_CONFIG = {key: value for key, value in env.email_url("EMAIL_URL").items() if value not in ("", None)}
    if EMAIL_CONFIG["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
        EMAIL_CONFIG["EMAIL_FILE_PATH"] = urlsplit(env("EMAIL_URL")).path  # django-environ drops its leading /
    vars().update(EMAIL_CONFIG)
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
# Throttle counters and other cached state must be shared by every web process: Redis, required.
CACHES = {"default": redis_cache(env("REDIS_URL"))}

# --- HTTPS and the API docs (issue 9, harden) ---------------------------------------------------------
# `manage.py check --deploy` with these settings has nothing to report (`make lint` runs it).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The load balancer's and Prometheus' probes may speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^health/ready/$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
# The schema and the Swagger UI describe every operation: only for signed-in users.
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS,  # noqa: F405
                        "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"]}
# --- end of the HTTPS block -----------------------------------------------------------------------------
