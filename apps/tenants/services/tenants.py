"""Tenants: create, update, (de)activate, delete."""
from __future__ import annotations

import logging
import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.accounts.models import User
from apps.accounts.services import RevokeReason
from apps.tenants.models import Tenant
from apps.tenants.services.members import member_detach

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



@transaction.atomic
def tenant_delete(*, tenant: Tenant) -> int:
    """Delete a tenant and its invitations; its users are kept but detached (tenant and role
    null), each with every session and access token revoked, since their tokens carry this
    tenant's claims. User.tenant stays PROTECT, so no other path can delete a tenant from
    under its users silently. Returns how many users were detached."""
    users = list(User.objects.select_for_update().filter(tenant=tenant).order_by())
    for user in users:
        member_detach(user=user, reason=RevokeReason.TENANT_DELETED)
    tenant_id = tenant.id
    tenant.delete()
    logger.info("Deleted tenant %s; detached %d user(s)", tenant_id, len(users))
    return len(users)
