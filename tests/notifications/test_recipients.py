"""Recipients are named by the domain app that records an event; the fan-out only turns them into
people and channels: teams and groups into their active members, never the actor, a customer's
address as it was given."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import roles
from notifications import selectors, services
from notifications.models import Channel, EventKind
from notifications.recipients import CustomerAddress, Recipients
from tests.factories import UserFactory


def record(recipients: Recipients, *, actor=None, kind=EventKind.IMPROVEMENT_CHANGED):
    with transaction.atomic():
        event, created = services.event_record(kind=kind, recipients=recipients, payload={"title": "T"},
                                               actor=actor)
    assert created
    return event


def test_recipients_survive_the_round_trip_through_the_event_row():
    recipients = (Recipients(user_ids=(3,), team_ids=(7,))
                  | Recipients(group_names=(roles.MANAGERS,), user_ids=(3, 4))
                  | Recipients(customer=CustomerAddress(key="customer:9", email="c@example.com", language="de")))
    assert recipients.user_ids == (3, 4) and recipients.team_ids == (7,)
    assert Recipients.from_json(recipients.as_json()) == recipients
    assert Recipients.from_json({}) == Recipients()


@pytest.mark.django_db
def test_teams_and_groups_become_their_active_members_without_the_actor(
        service_user, service_user2, manager, seller, django_assert_max_num_queries):
    gone = UserFactory(username="former", teams=[roles.SERVICE], is_active=False)
    team_id = service_user.groups.get(name=roles.SERVICE).pk
    # given an event for the service team, the managers and the seller, caused by one of the servicers
    event = record(Recipients(team_ids=(team_id,), group_names=(roles.MANAGERS,), user_ids=(seller.pk,)),
                   actor=service_user2)
    # then everyone named hears it once, except the actor and a deactivated account
    with django_assert_max_num_queries(1):
        users = selectors.event_recipients(event)
    assert sorted(u.username for u in users) == ["manager", "seller", "servicer"]
    assert [u.pk for u in users] == sorted(u.pk for u in users)
    assert gone not in users


@pytest.mark.django_db
def test_the_actor_is_told_when_the_domain_asks_for_it(seller):
    event = record(Recipients(user_ids=(seller.pk,), exclude_actor=False), actor=seller)
    assert selectors.event_recipients(event) == [seller]


@pytest.mark.django_db
def test_a_customer_gets_one_email_in_their_language_and_nothing_else(seller):
    event = record(Recipients(customer=CustomerAddress(key="customer:5", email="kunde@example.com",
                                                       language="de")),
                   kind=EventKind.INTERIM_NOTICE_DUE)
    [target] = selectors.event_targets(event)
    assert (target.channel, target.target, target.address, target.language, target.user) == (
        Channel.EMAIL, "customer:5", "kunde@example.com", "de", None)


@pytest.mark.django_db
def test_an_event_for_nobody_has_no_deliveries():
    event = record(Recipients())
    assert selectors.event_targets(event) == []
    assert services.event_fan_out(event_id=event.pk) == []
