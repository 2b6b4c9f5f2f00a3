"""A Redis cache that fails open: when Redis is down, a cache call answers as if the key were
missing instead of failing the request that made it.

What the product keeps in the cache (throttle counters) is worth less than the request: a write
during a Redis outage must commit, and its notification waits in the outbox. Each failure is
counted per operation (`cache_failure_counts`, for metrics and /health/) and logged, at most once a
minute per process so that an outage does not flood the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0

_lock = threading.Lock()
_failures: Counter[str] = Counter()
_last_logged = {"at": float("-inf")}


def cache_failure_counts() -> dict[str, int]:
    """Cache operations that failed open in this process since it started, by operation."""
    with _lock:
        return dict(_failures)


def _failed_open(operation: str, error: RedisError) -> None:
    now = time.monotonic()
    with _lock:
        _failures[operation] += 1
        total = sum(_failures.values())
        should_log = now - _last_logged["at"] >= LOG_EVERY_SECONDS
        if should_log:
            _last_logged["at"] = now
    if should_log:
        logger.warning("Cache unavailable, failing open (%s: %s); %s cache operations failed open so far.",
                       operation, error, total)


class FailOpenRedisCacheClient(RedisCacheClient):
    def add(self, key, value, timeout):
        try:
            return super().add(key, value, timeout)
        except RedisError as error:
            _failed_open("add", error)
            return False

    def get(self, key, default):
        try:
            return super().get(key, default)
        except RedisError as error:
            _failed_open("get", error)
            return default

    def set(self, key, value, timeout):
        try:
            super().set(key, value, timeout)
        except RedisError as error:
            _failed_open("set", error)

    def touch(self, key, timeout):
        try:
            return super().touch(key, timeout)
        except RedisError as error:
            _failed_open("touch", error)
            return False

    def delete(self, key):
        try:
            return super().delete(key)
        except RedisError as error:
            _failed_open("delete", error)
            return False

    def get_many(self, keys):
        try:
            return super().get_many(keys)
        except RedisError as error:
            _failed_open("get_many", error)
            return {}

    def has_key(self, key):
        try:
            return super().has_key(key)
        except RedisError as error:
            _failed_open("has_key", error)
            return False

    def incr(self, key, delta):
        try:
            return super().incr(key, delta)
        except RedisError as error:
            _failed_open("incr", error)
            return delta

    def set_many(self, data, timeout):
        try:
            super().set_many(data, timeout)
        except RedisError as error:
            _failed_open("set_many", error)

    def delete_many(self, keys):
        try:
            super().delete_many(keys)
        except RedisError as error:
            _failed_open("delete_many", error)

    def clear(self):
        try:
            return super().clear()
        except RedisError as error:
            _failed_open("clear", error)
            return False


class FailOpenRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache whose calls never raise for an unreachable Redis."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient

    def reachable(self) -> tuple[bool, str]:
        """Ask Redis directly (the cache calls themselves never fail): (answers, why not)."""
        try:
            self._cache.get_client(None, write=True).ping()
        except RedisError as error:
            return False, f"{type(error).__name__}: {error}"[:200]
        return True, ""
