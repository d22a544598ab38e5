"""Writing security events. The one entry point is `event_record`.

Guarantees, and why
-------------------
- An event is recorded by the service where the thing happens (login, rotation, revocation,
  reset, invitation...), never by a view or by parsing logs, so no path can forget it.
- Recording never fails the request it describes: inside the caller's transaction the insert
  runs in its own savepoint (so a failed insert does not poison the caller's PostgreSQL
  transaction); outside one it is a single autocommitted statement, atomic by itself, with no
  BEGIN/COMMIT round trips (login, reuse detection). Any database error is logged at ERROR
  and swallowed. An auth flow that works must not 500 because its audit trail could not be
  written.
- Events hold ids, an address and a user agent: never a password, a token or a key.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction

from apps.audit.models import EventType, SecurityEvent
from apps.core import clock
from apps.core.ids import parse_uuid
from apps.core.pruning import delete_in_batches

logger = logging.getLogger(__name__)

USER_AGENT_MAX = 256


def event_record(
    *,
    type: EventType | str,  # shadows the builtin: the contract's field name
    user: Any,
    ip: str | None = None,
    user_agent: str | None = None,
    session_id: Any = None,
    tenant_id: Any = ...,
    actor: Any = None,
) -> SecurityEvent | None:
    """Record one event about `user`; returns it, or None when the write failed (logged).

    `tenant_id` defaults to the user's tenant at this moment; pass it explicitly when the
    event is about a membership that is ending (member_removed keeps the old tenant).

    `actor`: someone other than `user` did it (an admin changing a role, removing a member).
    The event then shows `detail.actor_id` and no address or user agent: the user's list
    must not show another person's network details, only who acted.
    """
    if actor is not None:
        ip, user_agent = None, ""
    event = SecurityEvent(
        type=str(type),
        created_at=clock.now(),
        user_id=user.pk,
        tenant_id=parse_uuid(user.tenant_id if tenant_id is ... else tenant_id),
        session_id=parse_uuid(session_id),
        ip=ip or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        detail={} if actor is None else {"actor_id": str(actor.pk)},
    )
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                event.save(force_insert=True)
        else:
            event.save(force_insert=True)
    except DatabaseError:
        logger.exception("Could not record security event %s for user %s", event.type, event.user_id)
        return None
    return event


def events_prune(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete events older than SECURITY_EVENT_RETENTION_DAYS (contract: kept that long, then
    pruned automatically). Batched like sessions_prune, so a backlog never holds a long lock;
    a retention of 0 or less keeps everything."""
    days = settings.SECURITY_EVENT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or clock.now()) - timedelta(days=days)
    return delete_in_batches(SecurityEvent.objects.filter(created_at__lt=cutoff), batch_size=batch_size)
