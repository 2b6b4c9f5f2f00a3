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
