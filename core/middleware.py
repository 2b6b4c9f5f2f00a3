"""The request id of every web request: the client's X-Request-ID (when sane) or a new one, set for
the logs of the request and of the tasks it causes, and returned in the response's X-Request-ID."""

from __future__ import annotations

from django.core.signals import request_finished
from django.dispatch import receiver

from core.logging import request_id_from_client, request_id_set

REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from_client(request.headers.get(REQUEST_ID_HEADER))
        # Not reset on the way out: Django logs the response ("Bad Request: …") after the middleware
        # returned; the id is forgotten when the response is closed (request_finished).
        request_id_set(request.request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


@receiver(request_finished, dispatch_uid="core.middleware.forget_request_id")
def _forget_request_id(**kwargs) -> None:
    request_id_set(None)
