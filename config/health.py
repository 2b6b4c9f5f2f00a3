"""Health and readiness of one web process, for operators and load balancers.

`/health/` reports every dependency: the database, the broker, the cache, whether a worker answers,
and the outbox backlog with the age of its oldest row. It answers 503 only when the database is
down: without the broker, cache or workers the product still records every change and its
notifications wait in the outbox. `/health/ready/` is the cheap question a load balancer asks
every few seconds: can this process serve requests (the database answers)?
"""

from __future__ import annotations

import threading
import time

from django.core.cache import caches
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from core.cache import FailOpenRedisCache, cache_failure_counts
from notifications.models import Delivery, DeliveryState, OutboxEvent

BROKER_TIMEOUT_SECONDS = 2.0
WORKER_PING_TIMEOUT_SECONDS = 1.0
# A worker ping is a broadcast through the broker: remember its answer for a while in this process,
# so that frequent polling of /health/ does not become broker traffic or a one-second wait each time.
WORKER_PING_MEMO_SECONDS = 15.0

_worker_memo: dict = {"at": float("-inf"), "state": None}
_worker_lock = threading.Lock()


def _failure(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - the health check reports any failure
        return {"ok": False, "vendor": connection.vendor, "error": _failure(exc)}


def broker_state() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            transport = conn.transport.driver_type
        return {"ok": True, "transport": str(transport)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": _failure(exc)}


def cache_state() -> dict:
    backend = caches["default"]
    state = {"backend": type(backend).__name__, "failed_open": cache_failure_counts()}
    if isinstance(backend, FailOpenRedisCache):
        reachable, error = backend.reachable()
        state.update({"ok": reachable} if reachable else {"ok": False, "error": error})
    else:
        state["ok"] = True  # process memory: always there
    return state


def worker_state(*, broker_ok: bool) -> dict:
    """Whether at least one Celery worker answers a ping (remembered for WORKER_PING_MEMO_SECONDS)."""
    if not broker_ok:
        return {"ok": False, "error": "broker unreachable"}
    with _worker_lock:
        if time.monotonic() - _worker_memo["at"] < WORKER_PING_MEMO_SECONDS and _worker_memo["state"]:
            return _worker_memo["state"]
        try:
            # A connection of its own: a pooled one may be stale after the broker restarted.
            with celery_app.connection_for_write() as conn:
                replies = celery_app.control.inspect(connection=conn, timeout=WORKER_PING_TIMEOUT_SECONDS,
                                                     limit=1).ping() or {}
            state = {"ok": bool(replies), "answered": sorted(replies)}
        except Exception as exc:  # noqa: BLE001
            state = {"ok": False, "error": _failure(exc)}
        _worker_memo.update(at=time.monotonic(), state=state)
        return state


def outbox_state() -> dict:
    """Events not yet fanned out and deliveries not yet sent; the age of the oldest of either."""
    now = timezone.now()
    try:
        events = OutboxEvent.objects.filter(fanned_out_at__isnull=True).aggregate(
            count=Count("pk"), oldest=Min("created_at"))
        deliveries = Delivery.objects.filter(state__in=[DeliveryState.PENDING, DeliveryState.SENDING]).aggregate(
            count=Count("pk"), oldest=Min("created_at"))
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": _failure(exc)}
    oldest = min((row["oldest"] for row in (events, deliveries) if row["oldest"]), default=None)
    return {
        "ok": True,
        "pending_events": events["count"],
        "pending_deliveries": deliveries["count"],
        "oldest_pending_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
    }


@never_cache
@require_GET
def health(request):
    """Every dependency's state; 200 while the database answers, 503 when it does not."""
    database = database_state()
    broker = broker_state()
    report = {
        "database": database,
        "broker": broker,
        "cache": cache_state(),
        "worker": worker_state(broker_ok=broker["ok"]),
        "outbox": outbox_state() if database["ok"] else {"ok": False, "error": "database unreachable"},
    }
    healthy = all(part["ok"] for part in report.values())
    status = "ok" if healthy else ("degraded" if database["ok"] else "down")
    return JsonResponse({"status": status, **report}, status=200 if database["ok"] else 503)


@never_cache
@require_GET
def ready(request):
    """Readiness for a load balancer: this process can serve requests when its database answers."""
    database = database_state()
    return JsonResponse({"ready": database["ok"], "database": database}, status=200 if database["ok"] else 503)
