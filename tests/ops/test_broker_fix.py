"""A pending acknowledgement on a detached Redis transport is a connection error, which kombu logs and
survives, not an AttributeError that ends the worker (config/broker_fix.py)."""

from __future__ import annotations

import logging
import os

import pytest
from kombu import Connection
from kombu.message import Message
from redis.exceptions import ConnectionError as RedisConnectionError

from config.celery import app  # noqa: F401 - importing the app installs the fix

pytestmark = pytest.mark.redis


def test_an_ack_after_the_transport_was_detached_is_a_connection_error(caplog):
    # given a channel of a Redis connection, and a message received on it
    connection = Connection(os.environ["SQG_TEST_REDIS_URL"])
    channel = connection.default_channel
    message = Message(channel=channel, delivery_tag="tag-1", body="{}")
    # when the connection is lost: kombu detaches the transport's client, as it does on a reconnect
    channel.connection.client = None
    # then acknowledging it raises the transport's connection error ...
    with pytest.raises(RedisConnectionError):
        channel.qos.ack("tag-1")
    # ... which the worker's late ack logs and survives instead of exiting
    with caplog.at_level(logging.CRITICAL):
        message.ack_log_error(logging.getLogger("test"), connection.connection_errors)
    assert "Couldn't ack" in caplog.text
