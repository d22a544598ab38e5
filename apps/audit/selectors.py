"""Reads of security events: a user's own, or a tenant's (contract: "Security events").

Both are newest first with the primary key as the tie-breaker, the order the indexes on
(user_id|tenant_id, -created_at, -id) serve and the cursor pagination pages through.
"""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.audit.models import SecurityEvent

ORDERING = ("-created_at", "-id")


def event_list_for_user(*, user: Any) -> QuerySet[SecurityEvent]:
    """Every event about this user, whichever tenant they were in at the time."""
    return SecurityEvent.objects.filter(user_id=user.pk).order_by(*ORDERING)


def event_list_for_tenant(*, tenant_id: Any) -> QuerySet[SecurityEvent]:
    """Every event recorded while its user belonged to this tenant (a former member's events
    from their time in it included; nothing of another tenant's, ever)."""
    return SecurityEvent.objects.filter(tenant_id=tenant_id).order_by(*ORDERING)
