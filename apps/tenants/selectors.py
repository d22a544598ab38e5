from __future__ import annotations

from django.db.models import QuerySet

from apps.tenants.models import Tenant


def member_list(*, tenant: Tenant) -> QuerySet:
    """The tenant's users, owners first; only ever this tenant's."""
    from apps.accounts.models import User

    return User.objects.filter(tenant=tenant).select_related("tenant").order_by("date_joined", "email")
