"""Prometheus metrics at /metrics, for the addresses in METRICS_ALLOWED_NETWORKS or a bearer METRICS_TOKEN.

Two kinds of figures, each counted where it is true for every process:

- Requests (count by method and status, latency) are counted in the web process that answered them.
  With several gunicorn processes a scrape reaches one of them, so gunicorn.conf.py turns on
  prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): every process writes its
  counters to a file there and any process answers the scrape with the sum.
- What the product did (gate decisions, overdue gates, the outbox backlog and its oldest row,
  deliveries by channel and outcome) lives in the database, and most of it is done by Celery
  workers that serve no /metrics. It is read at scrape time with four aggregate queries, so it is the
  same whichever process answers, survives restarts and needs no push from the workers.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from notifications.models import Delivery, DeliveryState, OutboxEvent
from promises.models import TrailSubject, TransitionLog
from qualitygates.models import Decision, GateReview, ReviewState

REQUESTS = Counter("sqg_http_requests", "HTTP requests answered, by method and status.", ["method", "status"])
LATENCY = Histogram("sqg_http_request_duration_seconds", "Time to answer an HTTP request, by method.", ["method"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Any other word a client sends as its method is one label value, not one time series per word.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_WAITING = (DeliveryState.PENDING, DeliveryState.SENDING)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "other"
        LATENCY.labels(method).observe(time.perf_counter() - started)
        REQUESTS.labels(method, str(response.status_code)).inc()
        return response


class DatabaseCollector:
    """The product's figures, read from the database when Prometheus scrapes (four queries)."""

    def collect(self):
        now = timezone.now()
        decisions = CounterMetricFamily("sqg_gate_decisions", "Gate decisions taken, by result (from the trail).",
                                        labels=["result"])
        counted = dict(TransitionLog.objects.filter(subject=TrailSubject.GATE, action__in=Decision.values)
                       .values_list("action").annotate(n=Count("id")).values_list("action", "n"))
        for result in Decision.values:
            decisions.add_metric([result], counted.get(result, 0))
        yield decisions

        overdue = GateReview.objects.filter(state=ReviewState.OPEN, due_at__lte=now).count()
        yield GaugeMetricFamily("sqg_gates_overdue", "Open gates past their due time.", value=overdue)

        events = OutboxEvent.objects.filter(fanned_out_at__isnull=True).aggregate(n=Count("id"),
                                                                                   oldest=Min("created_at"))
        groups = list(Delivery.objects.values("channel", "state").annotate(n=Count("id"), oldest=Min("created_at"))
                      .order_by("channel", "state"))
        waiting = [g for g in groups if g["state"] in _WAITING]
        backlog = GaugeMetricFamily("sqg_outbox_backlog", "Outbox rows waiting: events not fanned out yet, "
                                    "deliveries pending or being sent.", labels=["kind"])
        backlog.add_metric(["event"], events["n"])
        backlog.add_metric(["delivery"], sum(g["n"] for g in waiting))
        yield backlog
        age = GaugeMetricFamily("sqg_outbox_oldest_pending_age_seconds",
                                "Age of the oldest waiting outbox row (0 when none waits).", labels=["kind"])
        age.add_metric(["event"], _age(now, events["oldest"]))
        age.add_metric(["delivery"], _age(now, min((g["oldest"] for g in waiting), default=None)))
        yield age

        deliveries = GaugeMetricFamily("sqg_deliveries", "Deliveries by channel and state (outcome).",
                                       labels=["channel", "state"])
        for group in groups:
            deliveries.add_metric([group["channel"], group["state"]], group["n"])
        yield deliveries


def _age(now, since) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


class _ThisProcess:
    """The process's own registry (the request metrics) when there is only one process."""

    def collect(self):
        return REGISTRY.collect()


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        raise Http404  # the endpoint does not exist for anybody else
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
