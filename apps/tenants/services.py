"""Tenant state changes: create, update, (de)activate, add members."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)

SLUG_MAX = 50


def _slug_candidates(name: str):
    base = slugify(name)[:SLUG_MAX].strip("-") or "tenant"
    yield base
    for n in range(2, 6):
        yield f"{base[:SLUG_MAX - 3]}-{n}"
    while True:  # crowded name: a random suffix ends the search
        yield f"{base[:SLUG_MAX - 7]}-{secrets.token_hex(3)}"


def tenant_create(*, name: str, enabled_modules: list[str] | None = None) -> Tenant:
    """A tenant with a unique slug made from its name (acme, acme-2, ..., acme-1a2b3c)."""
    name = name.strip()
    for slug in _slug_candidates(name):
        if Tenant.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(name=name, slug=slug, enabled_modules=list(enabled_modules or []))
        except IntegrityError:  # taken between the check and the insert
            continue
        logger.info("Created tenant %s (%s)", tenant.id, tenant.slug)
        return tenant
    raise AssertionError("unreachable")  # the candidate generator never ends


def tenant_update(*, tenant: Tenant, name: str | None = None, enabled_modules: list[str] | None = None) -> Tenant:
    fields = []
    if name is not None:
        tenant.name = name.strip()
        fields.append("name")
    if enabled_modules is not None:
        tenant.enabled_modules = list(enabled_modules)
        fields.append("enabled_modules")
    if fields:
        tenant.save(update_fields=[*fields, "updated_at"])
        logger.info("Updated tenant %s: %s", tenant.id, ", ".join(fields))
    return tenant


@transaction.atomic
def tenant_set_active(*, tenant: Tenant, active: bool) -> Tenant:
    """Deactivation revokes every session and access token of the tenant's users (rule 3);
    the tenant's post_save signal does that, so admin edits get it too."""
    if tenant.is_active != active:
        tenant.is_active = active
        tenant.save(update_fields=["is_active", "updated_at"])
        logger.info("Tenant %s %s", tenant.id, "activated" if active else "deactivated")
    return tenant


def member_create(*, tenant: Tenant, **fields: Any):
    """A new user in this tenant (role admin or member)."""
    from apps.accounts.services import user_create

    user = user_create(tenant=tenant, **fields)
    logger.info("Added user %s to tenant %s as %s", user.id, tenant.id, user.role)
    return user
