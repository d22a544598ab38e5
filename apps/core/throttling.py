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
    """"5/min" -> (5, 60). Same syntax as DRF's DEFAULT_THROTTLE_RATES."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def _incr_shared(counter_key: str, period: int) -> int | None:
    def incr(client):
        pipe = client.pipeline(transaction=False)
        pipe.incr(counter_key)
        pipe.expire(counter_key, period + 1)  # keys are per window, so re-setting is harmless
        return int(pipe.execute()[0])

    return gateway.run(incr, default=None)


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
    """Subclasses set `scope` (a key of DEFAULT_THROTTLE_RATES) and `get_ident`."""

    scope: str = ""

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
        # No emails or IPs in keys. "surrogatepass": the ident is raw client input (a JSON
        # "\udfff" in an email), which throttles see before any validation; not a 500.
        digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        counter_key = key("throttle", self.scope, digest, window)
        count = _incr_shared(counter_key, period)
        if count is None:
            count = _incr_local(counter_key, period)
        self._wait = max(1, math.ceil((window + 1) * period - now))
        return count <= limit

    def wait(self) -> float:
        return getattr(self, "_wait", 1)
