"""gunicorn for production: `.venv/bin/gunicorn -c gunicorn.conf.py` (README, "Running in production").

Every number comes from the environment, with a default that fits a small machine:

GUNICORN_BIND             address to listen on (default 0.0.0.0:8000; PORT alone also works)
GUNICORN_WORKERS          processes (default 2 x CPUs + 1, at most 8)
GUNICORN_THREADS          threads per process (default 1: sync workers; more switches to gthread)
GUNICORN_TIMEOUT          seconds a request may take before its worker is restarted (default 30)
GUNICORN_GRACEFUL_TIMEOUT seconds a stopping worker gets to finish its requests (default 30)
GUNICORN_KEEPALIVE        seconds an idle keep-alive connection stays open (default 5)
GUNICORN_MAX_REQUESTS     requests after which a worker is replaced, against slow leaks (default 2000)
GUNICORN_FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-* headers are trusted (default 127.0.0.1)
PROMETHEUS_MULTIPROC_DIR  where the processes keep their request counters for /metrics
                          (default var/prometheus; emptied when gunicorn starts)

Access and error logs go to stderr as JSON lines (core.logging.JSONFormatter), the access line with
method, path, status, duration and the X-Request-ID the app answered with.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Headers must come in one piece and not be huge (gunicorn's defaults, stated here on purpose).
limit_request_line = 8190
limit_request_fields = 100

# --- logs: JSON lines on stderr ---------------------------------------------------------------------
accesslog = "-"
errorlog = "-"
# The atoms the JSON formatter turns into fields (core.logging._access_fields); the message stays readable.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus %({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logging.JSONFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    # gunicorn merges this over its own defaults key by key: the root logger must name our handler.
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                           "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}

# --- metrics from every process ----------------------------------------------------------------------
# Set before any worker imports prometheus_client: its counters then live in files that /metrics sums.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_ROOT / "var" / "prometheus"))


def on_starting(server):
    # Counters of an earlier run would be added to this one's.
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
