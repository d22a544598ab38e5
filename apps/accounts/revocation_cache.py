"""Redis fast path for revoked sessions: a marker per revoked session id, with a TTL.

Only revocation is cached, never "this token is current": a revocation is permanent, so a
marker can never be stale, whereas a cached "current jti" would go stale the moment an
invalidation is lost to an outage and would then accept a revoked token when Redis comes
back. A missing marker (Redis down, restarted empty, flushed, key expired) only means
"ask the database", which is always right. TTL = the session's remaining token lifetime:
after that the token is rejected by its own `exp` anyway.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from apps.core.cache import gateway, key


def _key(session_id: object) -> str:
    return key("session", "revoked", session_id)


def mark_revoked(sessions: Iterable[tuple[object, datetime]], *, now: datetime) -> None:
    """Mark (session_id, tokens_expire_at) pairs revoked; best effort."""
    entries = [(sid, math.ceil((until - now).total_seconds())) for sid, until in sessions]
    entries = [(sid, ttl) for sid, ttl in entries if ttl > 0]
    if not entries:
        return

    def write(client):
        pipe = client.pipeline(transaction=False)
        for sid, ttl in entries:
            pipe.set(_key(sid), b"1", ex=ttl)
        pipe.execute()

    gateway.run(write, default=None)


def is_marked_revoked(session_id: object) -> bool:
    """True only when Redis positively knows; False means "unknown, ask the database"."""
    return gateway.run(lambda client: bool(client.exists(_key(session_id))), default=False)
