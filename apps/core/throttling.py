"""Fixed-window throttles whose counters live in Redis, shared by every worker and instance.

When Redis is not configured or unavailable, counters fall back to this process's memory:
limits then hold per worker (a client gets at most workers x limit), which still stops brute
force, rather than failing open or answering 500. Windows are fixed (INCR + EXPIRE, one
round trip), so a client can spend at most twice the limit across a window boundary.
"""
from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import BaseThrottle

from apps.core.cache import gateway, key

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_local_counters = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def parse_rate(rate: str) -> tuple[int, int]:
    """"5/min" -> (5, 60), as DRF's DEFAULT_THROTTLE_RATES; also "5/15m" -> (5, 900)."""
    count, _, period = rate.partition("/")
    period = period.strip()
    digits = len(period) - len(period.lstrip("0123456789"))
    return int(count), int(period[:digits] or 1) * _PERIODS[period[digits]]


def _incr_shared(counter_key: str, period: int) -> int | None:
    def incr(client):
        pipe = client.pipeline(transaction=False)
        pipe.incr(counter_key)
        pipe.expire(counter_key, period + 1)  # keys are per window, so re-setting is harmless
        return int(pipe.execute()[0])

    return gateway.run(incr, default=None)


def _peek_shared(counter_key: str) -> int | None:
    def get(client):
        value = client.get(counter_key)
        return int(value) if value is not None else 0

    return gateway.run(get, default=None)


def _incr_local(counter_key: str, period: int) -> int:
    _local_counters.add(counter_key, 0, timeout=period + 1)
    try:
        return _local_counters.incr(counter_key)
    except ValueError:  # expired between add and incr
        _local_counters.add(counter_key, 1, timeout=period + 1)
        return 1


def reset_local_counters() -> None:
    _local_counters.clear()


class WindowThrottle(BaseThrottle):
    """Subclasses set `scope` (a key of DEFAULT_THROTTLE_RATES) and `get_ident`.

    `count_every_attempt = False` makes a failure throttle: `allow_request` only reads the
    counter, and the view calls `record_failure` when the attempt failed (login per email:
    a user who keeps logging in with the right password is never refused by it).
    """

    scope: str = ""
    count_every_attempt: bool = True

    def get_ident(self, request, view) -> str | None:
        """What to count by; None means "do not throttle this request"."""
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        if not settings.THROTTLE_ENABLED:
            return True
        ident = self.get_ident(request, view)
        if ident is None:
            return True
        limit, period = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope])
        now = time.time()
        window = int(now // period)
        counter_key = self._counter_key(ident, window)
        if self.count_every_attempt:
            count = _incr_shared(counter_key, period)
            if count is None:
                count = _incr_local(counter_key, period)
        else:  # the attempt about to be made, on top of the failures so far
            failures = _peek_shared(counter_key)
            if failures is None:
                failures = _local_counters.get(counter_key, 0)
            count = failures + 1
        self._wait = max(1, math.ceil((window + 1) * period - now))
        return count <= limit

    def _counter_key(self, ident: str, window: int) -> str:
        # No emails or IPs in keys. "surrogatepass": the ident is raw client input (a JSON
        # "\udfff" in an email), which throttles see before any validation; not a 500.
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return key("throttle", self.scope, digest, window)

    def record_failure(self, request, view) -> None:
        """Count one failed attempt (failure throttles, `count_every_attempt = False`)."""
        if not settings.THROTTLE_ENABLED:
            return
        ident = self.get_ident(request, view)
        if ident is None:
            return
        _, period = parse_rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope])
        counter_key = self._counter_key(ident, int(time.time() // period))
        if _incr_shared(counter_key, period) is None:
            _incr_local(counter_key, period)

    def wait(self) -> float:
        return getattr(self, "_wait", 1)
