from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


def _database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - the health check reports any failure
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:200]}


def _broker_state() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_type
        return {"ok": True, "transport": str(transport)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}


@never_cache
@require_GET
def health(request):
    """200 while the database answers (a broker outage only delays notifications: they wait in the
    outbox); 503 when the database does not."""
    database, broker = _database_state(), _broker_state()
    status = "ok" if database["ok"] and broker["ok"] else ("degraded" if database["ok"] else "down")
    return JsonResponse({"status": status, "database": database, "broker": broker},
                        status=200 if database["ok"] else 503)
