"""Members of a tenant: add (with a password), change role, remove, detach.

Guarantees, and why
-------------------
- The owner is never changed, demoted or removed here, and nobody is made owner (contract:
  403 permission_denied): ownership is the one role these endpoints cannot grant or take.
- A member of another tenant does not exist for the caller (404), so ids cannot be probed.
- Removal takes effect at once: the user's tenant and role become null, and every session and
  every access token issued so far is revoked (`sessions_revoke_for_user`), because those
  tokens carry the tenant's claims (tenant_id, tenant_slug, enabled_modules) that other
  services may trust offline.
- A role change does not revoke anything: the role is not a claim of our tokens, and every
  request authorises with the role read from the database in the same query that loads the
  user (accounts/authentication.py). So an earlier access token "reflects" the new role on
  its very next request, and the member stays logged in.
- What an admin set up does not outlive their admin role: when they are removed or demoted to
  member, their pending invitations are revoked in the same transaction (an `admin`
  invitation from a former admin would otherwise still grant admin).
- A role change or removal is recorded for the member with the acting admin's id
  (`detail.actor_id`), never the admin's address or user agent: those would otherwise show
  in the member's own event list.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import RevokeReason, sessions_revoke_for_user, user_create
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core import clock
from apps.core.exceptions import NotFound, PermissionDenied
from apps.core.ids import parse_uuid
from apps.tenants.models import Invitation, Tenant

logger = logging.getLogger(__name__)

GRANTABLE_ROLES = (Role.ADMIN, Role.MEMBER)
OWNER_PROTECTED = "The tenant's owner cannot be changed or removed here."
OWNER_NOT_GRANTABLE = "Nobody can be made an owner here."


def member_create(*, tenant: Tenant, **fields: Any) -> User:
    """A new user in this tenant (role admin or member), with a password the caller chose.
    Kept for existing clients; invitations are the recommended way (README, "Teams")."""
    user = user_create(tenant=tenant, **fields)
    logger.info("Added user %s to tenant %s as %s", user.id, tenant.id, user.role)
    return user


def ensure_grantable(role: str) -> None:
    """403 for `owner` (contract); other values are refused earlier, by the serializer."""
    if role == Role.OWNER:
        raise PermissionDenied(OWNER_NOT_GRANTABLE)


def _locked_member(*, tenant: Tenant, user_id: Any) -> User:
    """The tenant's member, row locked; another tenant's user or a bad id is 404."""
    member = (
        User.objects.select_for_update().filter(pk=user_id, tenant=tenant).order_by().first()
        if parse_uuid(user_id) is not None else None
    )
    if member is None:
        raise NotFound("No such member.")
    if member.tenant_role == Role.OWNER:
        raise PermissionDenied(OWNER_PROTECTED)
    return member




def invitations_revoke_sent_by(*, user: User) -> int:
    """Revoke every pending invitation `user` sent (they can no longer invite); the count."""
    revoked = Invitation.objects.filter(
        invited_by=user, accepted_at__isnull=True, revoked_at__isnull=True,
    ).update(revoked_at=clock.now())
    if revoked:
        logger.info("Revoked %d pending invitation(s) sent by user %s", revoked, user.id)
    return revoked


@transaction.atomic
def member_role_change(
    *, tenant: Tenant, user_id: Any, role: str, actor: User | None = None, ip: str | None = None,
    user_agent: str | None = None,
) -> User:
    """Set an admin's or member's role (admin/member). Records `member_role_changed` (with
    the actor's id); a demoted admin's pending invitations are revoked."""
    member = _locked_member(tenant=tenant, user_id=user_id)
    ensure_grantable(role)
    if member.role != role:
        old = member.tenant_role
        member.role = role
        member.save(update_fields=["role"])
        if role == Role.MEMBER:
            invitations_revoke_sent_by(user=member)
        event_record(type=EventType.MEMBER_ROLE_CHANGED, user=member, ip=ip, user_agent=user_agent, actor=actor)
        logger.info("User %s of tenant %s: role %s -> %s", member.id, tenant.id, old, role)
    return member


def member_detach(
    *, user: User, reason: RevokeReason, actor: User | None = None, ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Take the user out of their tenant (tenant and role null), revoke every session and
    access token of theirs and every pending invitation they sent; records `member_removed`
    under the tenant they left (with the actor's id when someone else removed them).
    Call inside a transaction holding the user's row lock."""
    old_tenant_id = user.tenant_id
    user.tenant, user.role = None, ""
    user.save(update_fields=["tenant", "role"])
    sessions_revoke_for_user(user=user, reason=reason)
    invitations_revoke_sent_by(user=user)
    event_record(
        type=EventType.MEMBER_REMOVED, user=user, ip=ip, user_agent=user_agent, tenant_id=old_tenant_id,
        actor=actor,
    )
    logger.info("User %s detached from tenant %s (%s)", user.id, old_tenant_id, reason.value)


@transaction.atomic
def member_remove(
    *, tenant: Tenant, user_id: Any, actor: User | None = None, ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Remove an admin or member from the tenant, effective at once (see module docstring)."""
    member = _locked_member(tenant=tenant, user_id=user_id)
    member_detach(user=member, reason=RevokeReason.MEMBER_REMOVED, actor=actor, ip=ip, user_agent=user_agent)
