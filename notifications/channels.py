"""Rendering a delivery and sending it on its channel: email, in-app inbox (rendered only; the
service stores it), outgoing webhook.

A `PermanentFailure` (a template error, a missing address) fails the one row with its reason;
any other exception is worth another attempt with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

from .models import Channel, Delivery, EventKind

K = EventKind


class PermanentFailure(Exception):
    """Retrying cannot help: the row fails with this reason."""


@dataclass(frozen=True)
class Message:
    subject: str
    summary: str
    body: str
    link: str


SUBJECTS = {
    K.GATE_OPENED: gettext_lazy("Gate “%(gate)s” is open for your decision: %(title)s"),
    K.GATE_DECIDED: gettext_lazy("Gate “%(gate)s” decided (%(decision)s): %(title)s"),
    K.GATE_RESUMED: gettext_lazy("Gate “%(gate)s” resumed: %(title)s"),
    K.GATE_DUE_SOON: gettext_lazy("Reminder: gate “%(gate)s” is due %(due)s: %(title)s"),
    K.GATE_OVERDUE: gettext_lazy("Overdue: gate “%(gate)s” was due %(due)s: %(title)s"),
    K.GATE_ESCALATED: gettext_lazy("Escalation: gate “%(gate)s” overdue since %(due)s: %(title)s"),
    K.CONDITION_LAPSED: gettext_lazy("A condition lapsed, the promise is back in rework: %(title)s"),
    K.INTERIM_NOTICE_DUE: gettext_lazy("An update on your service promise: %(title)s"),
    K.WEEKLY_DIGEST: gettext_lazy("Weekly improvement digest, week ending %(date)s"),
}
GENERIC_SUBJECT = gettext_lazy("%(kind)s: %(title)s")


def _due(payload: dict) -> str:
    value = parse_datetime(payload.get("due_at") or "")
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "?"


def _context(delivery: Delivery) -> dict:
    event = delivery.event
    promise = event.promise
    payload = event.payload or {}
    site = settings.SITE_URL.rstrip("/")
    if delivery.channel == Channel.EMAIL and delivery.recipient_id is None and promise is not None:
        link = f"{site}/status/{promise.status_token}/"
    elif promise is not None:
        link = f"{site}/admin/promises/servicepromise/{promise.pk}/change/"
    else:
        link = f"{site}/"
    decision = payload.get("decision", "")
    if decision:
        from qualitygates.models import Decision

        decision = Decision(decision).label if decision in Decision.values else decision
    values = {
        "gate": payload.get("gate", ""), "decision": decision,
        "title": promise.title if promise else (payload.get("title") or str(payload.get("text", ""))[:80]),
        "due": _due(payload), "kind": EventKind(event.kind).label if event.kind in EventKind.values else event.kind,
        "date": payload.get("week_ending", ""),
    }
    return {
        "event": event, "kind": event.kind, "promise": promise, "review": event.gate_review, "payload": payload,
        "recipient": delivery.recipient, "site_url": site, "link": link, "values": values,
        "customer": promise.customer if promise is not None else None,
    }


def render(delivery: Delivery, *, body: bool = False, summary: bool = False) -> Message:
    """Subject and link, with the email body and/or the inbox summary, in the recipient's language."""
    try:
        with translation.override(delivery.language or settings.LANGUAGE_CODE):
            context = _context(delivery)
            subject = str(SUBJECTS.get(delivery.event.kind, GENERIC_SUBJECT)) % context["values"]
            context["subject"] = subject
            text = render_to_string(
                [f"notifications/email/{delivery.event.kind}.txt", "notifications/email/event.txt"], context,
            ) if body else ""
            short = render_to_string("notifications/inbox/summary.txt", context).strip() if summary else ""
    except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
        raise PermanentFailure(f"Template error: {type(exc).__name__}: {exc}") from exc
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise PermanentFailure(f"Cannot render {delivery.event.kind}: {type(exc).__name__}: {exc}") from exc
    return Message(subject=" ".join(subject.split())[:250], summary=short, body=text, link=context["link"])


def send(delivery: Delivery) -> None:
    if delivery.channel == Channel.EMAIL:
        email_send(delivery, render(delivery, body=True))
    elif delivery.channel == Channel.WEBHOOK:
        webhook_post(delivery, render(delivery))
    else:
        raise PermanentFailure(f"Channel {delivery.channel!r} is not sent from here.")


def email_send(delivery: Delivery, message: Message) -> None:
    if not delivery.address:
        raise PermanentFailure("No email address.")
    email = EmailMessage(
        subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.address],
        # Lets a mail system spot a duplicate should a worker die between sending and recording.
        headers={"X-SQG-Delivery": delivery.key},
        connection=get_connection(fail_silently=False),
    )
    email.send()


# --- webhooks ---------------------------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": a receiver recomputes it with the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(delivery: Delivery, message: Message) -> bytes:
    event = delivery.event
    promise = event.promise
    review = event.gate_review
    data = {
        "delivery": delivery.key,
        "recipient": delivery.recipient.get_username() if delivery.recipient else None,
        "event": {"id": event.pk, "kind": event.kind, "created_at": event.created_at.isoformat(),
                  "payload": event.payload},
        "promise": ({"id": promise.pk, "title": promise.title, "state": promise.state} if promise else None),
        "gate": ({"id": review.pk, "name": review.name, "state": review.state,
                  "due_at": review.due_at.isoformat() if review.due_at else None} if review else None),
        "text": message.subject,
        "link": message.link,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirected webhook is a misconfigured one: report the 3xx


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_post(delivery: Delivery, message: Message) -> None:
    hook = delivery.webhook
    body = webhook_body(delivery, message)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "service-quality-gates-webhooks/1",
        "X-SQG-Event": delivery.event.kind,
        # The same for every attempt of this delivery: a receiver keeps the ones it has seen.
        "X-SQG-Delivery": delivery.key,
        "X-SQG-Timestamp": timestamp,
        "X-SQG-Signature": signature(hook.secret, timestamp, body),
    })
    timeout = float(getattr(settings, "NOTIFICATIONS_WEBHOOK_TIMEOUT", 5))
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"Webhook answered HTTP {exc.code}") from exc
    if not 200 <= status < 300:
        raise RuntimeError(f"Webhook answered HTTP {status}")

