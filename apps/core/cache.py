"""The one door to Redis: short timeouts, no retries, a circuit breaker, never raises.

Redis is a fast path here, never the record of truth, so every call states what to return
when Redis is unavailable (`default`) and callers fall back to the database. Why a breaker:
with Redis down or black-holed, each call would otherwise wait its full socket timeout, on
every request; with the breaker open, calls return the default at once for a cool-down,
then one probe call decides whether to close it again. Logging is per state change (one
WARNING when it opens, one INFO when it closes), never per request.

The breaker is per process: gunicorn workers each discover an outage on their own, at the
cost of one timeout each.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from apps.core import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")


class RedisGateway:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0  # monotonic time before which calls are skipped
        self._is_open = False
        self._probing = False

    # -- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._open_until, self._is_open, self._probing = 0.0, False, False
        metrics.redis_circuit_open.set(0)

    @property
    def configured(self) -> bool:
        return bool(settings.REDIS_URL)

    @property
    def circuit_open(self) -> bool:
        return self._is_open

    def _acquire(self) -> bool:
        """May this call go to Redis? Closed: yes. Open: only one probe after the cool-down."""
        if not self._is_open:
            return True
        with self._lock:
            if not self._is_open:
                return True
            if self._probing or time.monotonic() < self._open_until:
                return False
            self._probing = True
            return True

    def _on_failure(self, exc: Exception) -> None:
        with self._lock:
            was_open = self._is_open
            self._is_open, self._probing = True, False
            self._open_until = time.monotonic() + settings.REDIS_CIRCUIT_COOLDOWN_SECONDS
        metrics.redis_circuit_open.set(1)
        if not was_open:
            # The class name only: redis-py messages can include the address.
            logger.warning(
                "Redis unavailable (%s); using the database only, retrying in %.0fs",
                type(exc).__name__, settings.REDIS_CIRCUIT_COOLDOWN_SECONDS,
            )

    def _on_success(self) -> None:
        if not self._is_open:
            return
        with self._lock:
            was_open = self._is_open
            self._is_open, self._probing = False, False
        metrics.redis_circuit_open.set(0)
        if was_open:
            logger.info("Redis available again; fast path restored")

    # -- calls --------------------------------------------------------------------------------
    def client(self) -> redis.Redis:
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def run(self, operation: Callable[[redis.Redis], T], *, default: T) -> T:
        """Run `operation(client)`; on any Redis failure (or no Redis) return `default`."""
        if not self.configured or not self._acquire():
            return default
        try:
            result = operation(self.client())
        except (redis.RedisError, OSError) as exc:
            self._on_failure(exc)
            return default
        self._on_success()
        return result

    def ping(self) -> bool:
        return self.run(lambda r: bool(r.ping()), default=False)


gateway = RedisGateway()


def key(*parts: object) -> str:
    """Raw-client keys under REDIS_KEY_PREFIX, the namespace django-redis uses too."""
    return ":".join([settings.REDIS_KEY_PREFIX, *map(str, parts)])


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **_: object) -> None:
    if setting in {"REDIS_URL", "CACHES"}:
        gateway.reset()
