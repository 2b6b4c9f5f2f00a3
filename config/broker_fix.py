"""A worker must not die when Redis goes away while an acknowledgement is pending.

With late acknowledgement (every task here) the worker acknowledges a message after its task ran.
When the connection to Redis is lost, Celery restarts the consumer and closes its event loop; the
acknowledgements still queued on the loop then run against a transport whose connection kombu has
already detached (`Transport.client` is None). kombu 5.7.0's Redis channel reads the host from it
(`Channel._connparams`) and raises `AttributeError: 'NoneType' object has no attribute 'hostname'`.
That error is not one of the transport's connection errors, so it escapes `Message.ack_log_error`,
aborts the consumer's restart, and Celery reports "Unrecoverable error" and exits: the worker is gone
until someone starts it again (seen here: the worker of tests/ops/test_broker_outages.py exited this
way after one of its one-minute outages, on a loaded machine, with the gossip/mingle settings in place).

Raising the transport's own connection error instead lets kombu do what it does for any ack on a
dead connection: log "Couldn't ack", keep going, and reconnect. The message stays unacknowledged in
Redis and is delivered again after the visibility timeout; every task here is idempotent, so the
repeat changes nothing. No released kombu checks for the detached transport here (5.7.0 is the
newest), so this is a patch, not a pin; `tests/ops/test_broker_fix.py` fails without it.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

_connparams = kombu_redis.Channel._connparams


def _connparams_of_a_live_connection(self, asynchronous=False):
    if self.connection is None or self.connection.client is None:
        raise RedisConnectionError("The broker connection was closed while an operation was pending.")
    return _connparams(self, asynchronous=asynchronous)


def install() -> None:
    if kombu_redis.Channel._connparams is not _connparams_of_a_live_connection:
        kombu_redis.Channel._connparams = _connparams_of_a_live_connection
