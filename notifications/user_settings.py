"""A user's own notification settings and inbox: webhooks and read marks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import CommonErrorCode, NotFound, ValidationFailed

from . import webhook_targets
from .error_codes import NotificationErrorCode
from .models import EventKind, InboxItem, NotificationProfile, WebhookSubscription, new_webhook_secret


def webhook_subscription_create(*, user, name: str, url: str, kinds: list[str] | None = None,
                                secret: str | None = None) -> WebhookSubscription:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationFailed(_("A webhook needs an http(s) URL."), code=NotificationErrorCode.INVALID_URL,
                               fields={"url": "not an http(s) URL"}) from exc
    try:
        webhook_targets.target_check_new(url)
    except webhook_targets.TargetRefused as exc:
        raise ValidationFailed(exc.message, code=exc.code, fields={"url": str(exc.code)}) from exc
    unknown = [k for k in (kinds or []) if k not in EventKind.values]
    if unknown:
        raise ValidationFailed(_("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)},
                               code=NotificationErrorCode.INVALID_KIND, fields={"kinds": "unknown kinds"})
    if not name.strip():
        raise ValidationFailed(_("A webhook needs a name."), code=CommonErrorCode.INVALID,
                               fields={"name": "required"})
    subscription = WebhookSubscription(user=user, name=name.strip(), url=url, kinds=list(kinds or []))
    if secret:
        subscription.secret = secret
    subscription.save()
    return subscription


def webhook_subscription_enable(*, subscription_id: int, user) -> WebhookSubscription:
    """Switch a disabled webhook back on (after its receiver was fixed): failures count from zero."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
        if subscription is None:
            raise NotFound(_("Webhook subscription %(id)s does not exist.") % {"id": subscription_id})
        subscription.is_active, subscription.consecutive_failures = True, 0
        subscription.disabled_at, subscription.disabled_reason = None, ""
        subscription.save()
    return subscription


def inbox_mark_read(*, user, item_id: int, now: dt.datetime | None = None) -> InboxItem:
    item = InboxItem.objects.filter(pk=item_id, user=user).first()
    if item is None:
        raise NotFound(_("Inbox item %(id)s does not exist.") % {"id": item_id})
    if item.read_at is None:
        item.read_at = now or timezone.now()
        InboxItem.objects.filter(pk=item.pk, read_at__isnull=True).update(read_at=item.read_at)
    return item


def inbox_mark_all_read(*, user, now: dt.datetime | None = None) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


def webhook_subscription_disable(*, subscription_id: int, user,
                                 now: dt.datetime | None = None) -> WebhookSubscription:
    """Switch one of the user's webhooks off. It is kept (with its delivery history) and can be re-enabled."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
        if subscription is None:
            raise NotFound(_("Webhook subscription %(id)s does not exist.") % {"id": subscription_id})
        if subscription.is_active:
            subscription.is_active = False
            subscription.disabled_at = now or timezone.now()
            subscription.disabled_reason = "Switched off by its owner."
            subscription.save()
    return subscription


def webhook_subscription_rotate_secret(*, subscription_id: int, user) -> str:
    """Give one of the user's webhooks a new signing secret and return it: the only time it is shown.
    Signing uses the stored secret from the next delivery on; the receiver switches to the new one."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, user=user).first()
        if subscription is None:
            raise NotFound(_("Webhook subscription %(id)s does not exist.") % {"id": subscription_id})
        subscription.secret = new_webhook_secret()
        subscription.save(update_fields=["secret"])
    return subscription.secret


def notification_profile_set_language(*, user, language: str) -> NotificationProfile:
    """The user's language: the pages are shown and the messages written in it."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Unknown language: %(code)s.") % {"code": language},
                               code=CommonErrorCode.INVALID, fields={"language": [language]})
    profile, _created = NotificationProfile.objects.update_or_create(user=user, defaults={"language": language})
    return profile
