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
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy, pgettext

from core.models import in_active_language

from . import webhook_targets
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
    """Everything a template shows comes from the event's payload, written by the domain app."""
    event = delivery.event
    payload = event.payload or {}
    site = settings.SITE_URL.rstrip("/")
    # Someone without an account (a customer) gets the link meant for them, never an internal one.
    path = payload.get("customer_link") if delivery.recipient_id is None else None
    link = site + (path or payload.get("link") or "/")
    # The domain sends the untranslated label; it is translated here, in the recipient's language
    # (in the "gate decision" context the gate engine's choices use).
    decision = (pgettext("gate decision", payload["decision_label"]) if payload.get("decision_label")
                else payload.get("decision", ""))
    values = {
        # The domain sends configuration in both languages where it has both (core.models.in_active_language).
        "gate": in_active_language(payload.get("gate", ""), payload.get("gate_de", "")), "decision": decision,
        "commitment": in_active_language(payload.get("commitment", ""), payload.get("commitment_de", "")),
        "title": payload.get("title") or str(payload.get("text", ""))[:80],
        "due": _due(payload), "kind": EventKind(event.kind).label if event.kind in EventKind.values else event.kind,
        "date": payload.get("week_ending", ""),
    }
    return {"event": event, "kind": event.kind, "payload": payload, "recipient": delivery.recipient,
            "site_url": site, "link": link, "values": values,
            "company": {"name": settings.COMPANY_NAME, "email": settings.COMPANY_CONTACT_EMAIL,
                        "phone": settings.COMPANY_CONTACT_PHONE}}


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
    with Sender() as sender:
        sender.send(delivery)


class Sender:
    """Sends deliveries on their channels. The e-mails of one batch share one connection to the mail
    server (opened on the first, closed at the end); a connection that failed is not reused."""

    def __init__(self):
        self._mail = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, delivery: Delivery) -> None:
        if delivery.channel == Channel.EMAIL:
            message = render(delivery, body=True)
            try:
                if self._mail is None:
                    self._mail = get_connection(fail_silently=False)
                    # Opened here, or every send_messages() would open and close a connection of its own.
                    self._mail.open()
                email_send(delivery, message, connection=self._mail)
            except PermanentFailure:
                raise
            except Exception:
                self.close()
                raise
        elif delivery.channel == Channel.WEBHOOK:
            webhook_post(delivery, render(delivery))
        else:
            raise PermanentFailure(f"Channel {delivery.channel!r} is not sent from here.")

    def close(self) -> None:
        if self._mail is not None:
            connection, self._mail = self._mail, None
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a broken connection must not hide the send's outcome
                pass


def message_id(delivery: Delivery) -> str:
    """The e-mail's Message-ID, derived from the delivery key: the same on every attempt, so a mail
    system (or a reader) recognises a copy re-sent after a crash as the message it already has."""
    digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:32]
    return f"<{digest}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>"


def email_send(delivery: Delivery, message: Message, *, connection=None) -> None:
    if not delivery.address:
        raise PermanentFailure("No email address.")
    email = EmailMessage(
        subject=message.subject, body=message.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.address],
        headers={"Message-ID": message_id(delivery), "X-SQG-Delivery": delivery.key},
        connection=connection or get_connection(fail_silently=False),
    )
    email.send()


# --- webhooks ---------------------------------------------------------------------------------------

def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>": a receiver recomputes it with the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(delivery: Delivery, message: Message) -> bytes:
    event = delivery.event
    payload = event.payload or {}
    data = {
        "delivery": delivery.key,
        "recipient": delivery.recipient.get_username() if delivery.recipient else None,
        "event": {"id": event.pk, "kind": event.kind, "created_at": event.created_at.isoformat(),
                  "payload": event.payload},
        "promise": payload.get("promise"),
        "gate": payload.get("gate_review"),
        "text": message.subject,
        "link": message.link,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def webhook_post(delivery: Delivery, message: Message) -> None:
    hook = delivery.webhook
    body = webhook_body(delivery, message)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "service-quality-gates-webhooks/1",
        "X-SQG-Event": delivery.event.kind,
        # The same for every attempt of this delivery: a receiver keeps the ones it has seen.
        "X-SQG-Delivery": delivery.key,
        "X-SQG-Timestamp": timestamp,
        "X-SQG-Signature": signature(hook.secret, timestamp, body),
    }
    timeout = float(getattr(settings, "NOTIFICATIONS_WEBHOOK_TIMEOUT", 5))
    try:
        status = webhook_targets.post(hook.url, body=body, headers=headers, timeout=timeout)
    except webhook_targets.TargetRefused as exc:
        # The name now resolves into the internal network (or the allow-list lost it): no retry helps.
        raise PermanentFailure(f"{exc.code}: {exc.message}") from exc
    # Only the status is reported, never the receiver's answer: it could be an internal service's.
    if 300 <= status < 400:
        raise RuntimeError(f"Webhook answered HTTP {status} (redirects are not followed)")
    if not 200 <= status < 300:
        raise RuntimeError(f"Webhook answered HTTP {status}")
