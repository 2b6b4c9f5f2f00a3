"""Delivery in batches: one fan-out transaction for many events, one task for many sends, one broker
message per transaction and none while a fan-out is on its way; each row still sent once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from config.celery import app
from core import roles
from notifications import channels, dispatch, services, tasks
from notifications import delivery as delivery_module
from notifications.models import Channel, Delivery, DeliveryState, EventKind, InboxItem, OutboxEvent
from notifications.recipients import Recipients
from tests.factories import UserFactory


def record(recipients: Recipients, *, kind=EventKind.GATE_OPENED) -> OutboxEvent:
    with transaction.atomic():
        event, _ = services.event_record(kind=kind, recipients=recipients, payload={"title": "T", "gate": "G"})
    return event


@pytest.fixture
def team():
    members = [UserFactory(username=f"member{i}", teams=[roles.SERVICE]) for i in range(4)]
    return members[0].groups.get(name=roles.SERVICE).pk, members


@pytest.mark.django_db
def test_a_batch_of_events_is_fanned_out_in_a_fixed_number_of_queries(team, django_assert_max_num_queries):
    team_id, members = team
    loner = UserFactory(username="loner")
    # given twenty events for a team, and ten for one user
    for _ in range(20):
        record(Recipients(team_ids=(team_id,)))
    for _ in range(10):
        record(Recipients(user_ids=(loner.pk,)))
    # when one fan-out takes them all: as many queries as for one event
    with django_assert_max_num_queries(9):
        ids = services.events_fan_out(fill_to=100)
    # then every member got an inbox item and an e-mail delivery per event, the loner too
    assert len(ids) == 20 * 4 + 10
    assert InboxItem.objects.count() == 20 * 4 + 10
    assert not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists()
    # and a second fan-out finds nothing to do
    assert services.events_fan_out(fill_to=100) == []


@pytest.mark.django_db
def test_a_batch_of_sends_uses_one_mail_connection_and_one_statement_per_send(
        team, monkeypatch, django_assert_max_num_queries):
    team_id, members = team
    for _ in range(3):
        record(Recipients(team_ids=(team_id,)))
    ids = services.events_fan_out(fill_to=100)
    opened = []
    real = channels.get_connection

    def counting_connection(**kwargs):
        opened.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(channels, "get_connection", counting_connection)
    mail.outbox.clear()
    # when one task sends the twelve e-mails: a claim (read and update, in a savepoint here) and one
    # update per send
    with django_assert_max_num_queries(4 + len(ids)):
        outcomes = delivery_module.deliveries_send(delivery_ids=ids)
    assert set(outcomes.values()) == {"sent"} and len(opened) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([m.email for m in members] * 3)
    # and sent again, the batch finds every row done
    assert set(delivery_module.deliveries_send(delivery_ids=ids).values()) == {"done"}
    assert len(mail.outbox) == 12


@pytest.mark.django_db
def test_rows_the_lease_cannot_cover_are_released_unsent(team, settings, django_capture_on_commit_callbacks,
                                                         monkeypatch):
    team_id, _members = team
    record(Recipients(team_ids=(team_id,)))
    ids = services.events_fan_out(fill_to=100)
    # given a lease shorter than one send may take
    settings.NOTIFICATIONS_LEASE_SECONDS, settings.EMAIL_TIMEOUT = 5, 20
    published = []
    monkeypatch.setattr(dispatch, "publish", lambda name, *args, **kwargs: published.append((name, args)) or True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = delivery_module.deliveries_send(delivery_ids=ids)
    # then the batch sends one and gives the others back, unsent and not counted as an attempt
    assert sorted(outcomes.values()) == ["released"] * 3 + ["sent"]
    assert len(mail.outbox) == 1
    released = Delivery.objects.filter(pk__in=[pk for pk, outcome in outcomes.items() if outcome == "released"])
    assert {(d.state, d.attempts, d.lease_until) for d in released} == {(DeliveryState.PENDING, 0, None)}
    # and hands them to a new task at once
    assert published == [(dispatch.DELIVERY_TASK, tuple(sorted(d.pk for d in released)))]


@pytest.fixture
def redis_broker(redis_url):
    before = app.conf.broker_url
    app.conf.broker_url = redis_url
    app._after_fork()
    yield redis_url
    app.conf.broker_url = before
    app._after_fork()


def queued(redis_url: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).llen("celery")


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_commits_while_a_fan_out_is_on_its_way_publish_nothing_more(redis_broker, team):
    team_id, members = team
    # given three events committed one after the other while no worker runs
    for _ in range(3):
        record(Recipients(team_ids=(team_id,)))
    # then one fan-out message is queued, not three
    assert queued(redis_broker) == 1
    # when a fan-out runs, it takes all three, and the next commit publishes again
    assert tasks.event_fan_out() == 3 * len(members)
    assert not OutboxEvent.objects.filter(fanned_out_at__isnull=True).exists()
    record(Recipients(team_ids=(team_id,)))
    assert queued(redis_broker) == 1 + 1 + 1  # the first fan-out, the batch of sends, the new fan-out
    assert Delivery.objects.filter(channel=Channel.EMAIL).count() == 3 * len(members)
