"""Settings shared by every environment. Values come from the environment (django-environ)."""

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")  # each environment module sets its own
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "nested_admin",
    "django_fsm",
    "pgtrigger",  # issue 9 (harden): the database refuses changes to the trails (PostgreSQL only)
    "csp",  # issue 9 (harden): the {% csp_nonce %} a page's own script would carry
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "promises",
    "qualitygates",
    "feedback",
    "notifications",
    "api",
    "web",
    "demo",
    "axes",  # issue 9 (harden): sign-in lockout; listed last, as django-axes asks
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",  # first: every response and log line carries the request id
    "config.metrics.RequestMetricsMiddleware",  # counts and times every answer, whatever answered it
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # issue 9 (harden): Content-Security-Policy on every answer
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # issue 9 (harden): answers a locked-out sign-in (api/lockout.py)
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "web.context_processors.workplace",
            ],
        },
    },
]


def database_from_env(default_url: str) -> dict:
    db = env.db_url("DATABASE_URL", default=default_url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded default shares the file between the web server, a worker and beat:
        # wait for the write lock instead of failing, and take it at the start of a transaction.
        db.setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    else:
        db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        db.setdefault("CONN_HEALTH_CHECKS", True)
    return db


DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Model permissions bounded by role (core/auth_backends.py): the walls of the admin.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

# --- Celery -------------------------------------------------------------------------------
# The embedded default is a broker that needs no server: kombu's filesystem transport in var/.
BROKER_DIR = VAR_DIR / "broker"
# "localhost" only names the (server-less) filesystem broker, so kombu does not warn it had to guess it.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="filesystem://localhost/"))
# Redis (or any networked broker). Longer than the longest task (and its retries' countdowns), so a
# message held by a worker that died is handed to another worker only after it really is lost. A
# publisher gives up on a dead broker at once: the outbox row waits for the sweep, so the request
# that committed it does not wait for the broker (workers reconnect with broker_connection_retry).
NETWORK_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_connect_timeout": 3,
    # A worker notices a dead or half-open broker connection (a Redis restarted elsewhere, a dropped
    # NAT entry) within seconds instead of waiting on a socket that never answers, and reconnects.
    "socket_keepalive": True,
    "health_check_interval": env.int("CELERY_BROKER_HEALTH_CHECK_INTERVAL", default=10),
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(NETWORK_BROKER_TRANSPORT_OPTIONS)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Workers ride out a broker outage of any length, at start-up and later: Celery's default gives up
# after 100 attempts (about 45 minutes) and exits, and nothing is delivered until someone restarts it.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task still running when the connection drops finishes its work and records it in the database;
# its message comes back from Redis and the repeat finds the row done. Cancelling it instead (True)
# would interrupt a send half-way, and is reported to crash the reconnect (celery issue 9250).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat runs the outbox sweep; with NOTIFICATIONS_SWEEP_GRACE_SECONDS it bounds how long a
# notification waits after a broker outage (at most grace + interval once the broker is back).
NOTIFICATIONS_SWEEP_INTERVAL_SECONDS = env.float("NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", default=60)
# The clock of the product lives here (one beat process); every task it fires is idempotent.
CELERY_BEAT_SCHEDULE = {
    "gate-conditions-lapse": {
        "task": "qualitygates.tasks.lapse_overdue_conditions",
        "schedule": 300.0,
    },
    # The outbox (notifications/tasks.py): the sweep re-dispatches what a broker outage or a dead
    # worker lost.
    "notifications-outbox-sweep": {
        "task": "notifications.tasks.outbox_sweep",
        "schedule": NOTIFICATIONS_SWEEP_INTERVAL_SECONDS,
    },
    # The domain apps' clocks put the period into each event's key, so a schedule that fires twice
    # (two beats, a restart) still notifies once.
    "qualitygates-gate-reminders": {
        "task": "qualitygates.tasks.gate_reminders",
        "schedule": 300.0,
    },
    "qualitygates-gate-escalations": {
        "task": "qualitygates.tasks.gate_escalations",
        "schedule": 900.0,
    },
    "promises-interim-notices": {
        "task": "promises.tasks.interim_notices",
        "schedule": crontab(minute=15),
    },
    "feedback-weekly-digest": {
        "task": "feedback.tasks.weekly_digest",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
}

# --- Cache -------------------------------------------------------------------------------------
# Throttle counters live here, so they must be shared by every web process: Redis when REDIS_URL
# is set (production), process-local memory in the embedded default. The Redis cache fails open
# (core/cache.py): with Redis down a request is served unthrottled instead of failing, and short
# socket timeouts keep a Redis that hangs from holding the request.
CACHE_REDIS_TIMEOUT_SECONDS = env.float("CACHE_REDIS_TIMEOUT_SECONDS", default=0.5)


def redis_cache(url: str) -> dict:
    return {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": CACHE_REDIS_TIMEOUT_SECONDS,
                        "socket_timeout": CACHE_REDIS_TIMEOUT_SECONDS}}


if env("REDIS_URL", default=""):
    CACHES = {"default": redis_cache(env("REDIS_URL"))}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonThrottle", "core.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
        "token_create": env("API_THROTTLE_TOKEN_CREATE", default="10/min"),
        "status_page": env("STATUS_PAGE_THROTTLE", default="30/min"),
    },
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
# --- Request bodies: hostile input (issue 12, ops2) -------------------------------------------
# One place for every app's API: bodies that no field can use are refused by the parsers (400/413)
# before a serializer sees them; the renderer writes any text it is given (api/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # also JSON bodies
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "api.parsers.JSONParser",
    "api.parsers.FormParser",
    "api.parsers.MultiPartParser",
]
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "api.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]
# --- end of the hostile-input block ---------------------------------------------------------------

SPECTACULAR_SETTINGS = {
    "TITLE": "Service quality gates API",
    "DESCRIPTION": "Service promises, their quality gates and the improvement loop (KVP). Errors are "
                   'JSON: {"error": code, "detail": message, "fields": {field: message}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from this site, not a CDN: the docs work on an intranet without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PromiseStateEnum": "promises.models.PromiseState",
        "ReviewStateEnum": "qualitygates.models.ReviewState",
        "CheckResultEnum": "qualitygates.models.CheckResult",
        "ConditionStateEnum": "qualitygates.models.ConditionState",
        "EventKindEnum": "notifications.models.EventKind",
        "PromiseChannelEnum": "promises.models.PromiseChannel",
        "FeedbackChannelEnum": "feedback.models.FeedbackChannel",
        "FeedbackKindEnum": "feedback.models.FeedbackKind",
        "ImprovementStateEnum": "feedback.models.ImprovementState",
        # Severity of feedback and priority of an improvement share one scale (low … critical).
        "LevelEnum": "feedback.models.Severity",
        "MetricKindEnum": "promises.models.MetricKind",
        "MetricDirectionEnum": "promises.models.MetricDirection",
    },
}

# --- Email ---------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="service-promises@example.com")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the file-based backend
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- Notifications ---------------------------------------------------------------------------
# A delivery belongs to the worker that claimed it for the lease; it must outlast one send
# (EMAIL_TIMEOUT, NOTIFICATIONS_WEBHOOK_TIMEOUT) so two workers never send the same row.
NOTIFICATIONS_LEASE_SECONDS = env.float("NOTIFICATIONS_LEASE_SECONDS", default=120)
# Pending rows older than this are re-dispatched by the sweep: their message was lost.
NOTIFICATIONS_SWEEP_GRACE_SECONDS = env.float("NOTIFICATIONS_SWEEP_GRACE_SECONDS", default=60)
# Backoff base * 2^(attempt-1), capped below the broker's visibility timeout (a countdown longer
# than it would make Redis hand the waiting message to a second worker).
NOTIFICATIONS_RETRY_BASE_SECONDS = env.float("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_MAX_SECONDS", default=1800)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
NOTIFICATIONS_WEBHOOK_TIMEOUT = env.float("NOTIFICATIONS_WEBHOOK_TIMEOUT", default=5)
NOTIFICATIONS_WEBHOOK_MAX_FAILURES = env.int("NOTIFICATIONS_WEBHOOK_MAX_FAILURES", default=10)
NOTIFICATIONS_REMINDER_AT = 0.8  # share of a gate's decision time after which its team is reminded
# The right-hand side of every e-mail's Message-ID (derived from the delivery key, the same on every
# attempt); set it to the product's own domain.
NOTIFICATIONS_MESSAGE_ID_DOMAIN = env("NOTIFICATIONS_MESSAGE_ID_DOMAIN", default="service-quality-gates.invalid")

# --- Product settings ------------------------------------------------------------------------
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Who the customer's status page says they deal with, and how to reach a person there.
COMPANY_NAME = env("COMPANY_NAME", default="Example Service GmbH")
COMPANY_CONTACT_EMAIL = env("COMPANY_CONTACT_EMAIL", default="service@example.com")
COMPANY_CONTACT_PHONE = env("COMPANY_CONTACT_PHONE", default="+49 30 1234567")

# --- Logging: structured, with the request id (issue 12, ops2) -----------------------------------
# One JSON object per line on stderr (time, level, logger, message, request_id, and any `extra=`),
# for web, worker and beat alike; LOG_FORMAT=text gives one readable line per record instead.
# The request id comes from core.middleware.RequestIdMiddleware and travels into Celery tasks.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JSONFormatter"},
        "text": {"()": "core.logging.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "json" if LOG_FORMAT == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
# The worker logs through LOGGING above instead of replacing the root logger's handlers with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# --- end of the logging block ---------------------------------------------------------------------

# --- Metrics (issue 12, ops2) ---------------------------------------------------------------------
# GET /metrics (config/metrics.py) answers the addresses in these networks, or anyone sending
# "Authorization: Bearer <METRICS_TOKEN>"; everybody else gets 404. With several gunicorn processes,
# gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR so every process's request counters are summed.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# --- end of the metrics block ---------------------------------------------------------------------

# --- Webhook targets (issue 9, harden) -------------------------------------------------------------
# Webhooks never post into internal networks (loopback, private, link-local, …; checked at creation
# and after resolving the name before every send). Host names listed here (e.g. an intranet CRM,
# "crm.corp.example") are allowed even though they resolve to an internal address.
NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS = env.list("NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS", default=[])
# --- end of the webhook-targets block --------------------------------------------------------------

# --- Sign-in: lockout, tokens, sessions (issue 9, harden) --------------------------------------------
# Five failed sign-ins for one account, or from one address, lock it for the cool-off (admin login,
# /api/auth/token/, anything that calls authenticate() with a request). A success resets the count.
AUTHENTICATION_BACKENDS = [
    "api.lockout.LockoutBackend",  # first: a locked account or address is refused before the password check
    "core.auth_backends.RoleBoundModelBackend",  # permissions bounded by role (issue 9, scope)
]
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("SIGNIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "api.lockout.lockout_response"
AXES_VERBOSE = False
# The client's address: REMOTE_ADDR, unless the operator says how many proxies put theirs in front
# (a forged X-Forwarded-For must not give every guess a fresh address).
AXES_IPWARE_PROXY_COUNT = env.int("API_NUM_PROXIES", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT
                                     else ["REMOTE_ADDR"])
# API tokens: stored as a hash, valid for this long, void after a password change (api/models.py).
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 30)
# A browser session ends after a working day without a request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=9 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
# --- end of the sign-in block ------------------------------------------------------------------------

# --- Content-Security-Policy (issue 9, harden) --------------------------------------------------------
# No inline script anywhere: scripts come from this site (or carry the request's nonce). The admin and
# the Swagger UI set style attributes from their scripts, so inline style stays allowed; nothing is
# framed, posted or loaded from elsewhere.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# --- end of the Content-Security-Policy block ----------------------------------------------------------
