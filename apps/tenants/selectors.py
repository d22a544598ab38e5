from __future__ import annotations

from django.db.models import QuerySet

from apps.core import clock
from apps.tenants.models import Invitation, Tenant


def member_list(*, tenant: Tenant) -> QuerySet:
    """The tenant's users, owners first; only ever this tenant's."""
    from apps.accounts.models import User

    return User.objects.filter(tenant=tenant).select_related("tenant").order_by("date_joined", "email")


def invitation_list_pending(*, tenant: Tenant) -> QuerySet:
    """This tenant's invitations that can still be accepted, newest first."""
    return Invitation.objects.filter(tenant=tenant).pending(now=clock.now()).order_by("-created_at", "-id")
