"""Self-service sign-up, with or without a new tenant.

It lives in tenants because tenants depends on accounts and never the reverse (STYLE: a flow
that spans two apps belongs to the one that depends on the other): the account is made by
accounts' `user_create`, the tenant by `tenant_create`, here, in one transaction.
"""
from __future__ import annotations

import logging

from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import email_verification_send, user_create
from apps.tenants.services.tenants import tenant_create

logger = logging.getLogger(__name__)


@transaction.atomic
def user_register(
    *, email: str, password: str, first_name: str = "", last_name: str = "",
    tenant_name: str | None = None,
) -> User:
    """Self-service sign-up; with `tenant_name`, a new tenant owned by the new user.

    One transaction: a registration that fails (taken email, weak password) leaves no tenant
    and sends no mail.
    """
    tenant = tenant_create(name=tenant_name) if tenant_name else None
    user = user_create(
        email=email, password=password, first_name=first_name, last_name=last_name,
        tenant=tenant, role=Role.OWNER if tenant else "",
    )
    email_verification_send(user=user)
    logger.info("Registered user %s (tenant %s)", user.id, tenant.id if tenant else None)
    return user
