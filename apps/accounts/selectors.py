from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import RefreshSession, User
from apps.core import clock


def session_list_for_user(*, user: User) -> QuerySet[RefreshSession]:
    """Sessions whose refresh token can still be used: not revoked, not expired."""
    now = clock.now()
    return RefreshSession.objects.filter(
        user=user, revoked_at__isnull=True, current_expires_at__gt=now, expires_at__gt=now
    ).order_by("-last_used_at")
