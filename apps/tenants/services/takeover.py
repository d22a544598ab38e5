"""Pre-account hijack: what an account's unproven holder set up ends when the mailbox is proven.

The rule (docs/SECURITY.md, "Teams"): someone may register an address that is not theirs and,
with EMAIL_VERIFICATION=optional, create a tenant, add members and admins, and send
invitations. When the address is first proven (a completed password reset, or the first email
verification: accounts sends `mailbox_proven`), everything before was set up by someone who
proved nothing, so whatever grants others access is ended, in the same transaction:

- the account owns a tenant: every other user of that tenant (admins and members) is detached
  (tenant and role null, every session and access token revoked, `member_removed` with the
  owner as actor) and every pending invitation of the tenant is revoked;
- otherwise (an admin or member): the pending invitations it sent are revoked, and the users
  who joined through invitations it sent, and are still in its tenant, are detached.

Each revoked invitation is an `invitation_revoked` event of the account; the owner of the
address is told by email (the durable mail queue) what was removed. The account itself, its
tenant and its role stay: the mailbox's owner now holds them.
"""
from __future__ import annotations

import logging

from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import RevokeReason
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core import clock
from apps.mail.services import mail_queue
from apps.tenants.models import Invitation
from apps.tenants.services.members import member_detach

logger = logging.getLogger(__name__)

SUBJECT = "Access set up before you verified your address was removed"


def unproven_setup_end(*, user: User, ip: str | None = None, user_agent: str | None = None) -> None:
    """End what `user` set up before proving its mailbox (module docstring). Call inside the
    transaction that proved it."""
    if user.tenant_id is None:
        invitations = Invitation.objects.filter(invited_by=user)
        joined = User.objects.none()
    elif user.role == Role.OWNER:
        invitations = Invitation.objects.filter(tenant_id=user.tenant_id)
        joined = User.objects.filter(tenant_id=user.tenant_id).exclude(pk=user.pk)
    else:
        invitations = Invitation.objects.filter(invited_by=user)
        joined = User.objects.filter(
            tenant_id=user.tenant_id, pk__in=invitations.filter(accepted_by__isnull=False).values("accepted_by"),
        ).exclude(role=Role.OWNER).exclude(pk=user.pk)
    with transaction.atomic():
        pending = list(
            invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_for_update().order_by("email")
        )
        now = clock.now()
        for invitation in pending:
            invitation.revoked_at = now
            invitation.save(update_fields=["revoked_at"])
            event_record(type=EventType.INVITATION_REVOKED, user=user, ip=ip, user_agent=user_agent)
        members = list(joined.select_for_update().order_by("email"))
        removed = [(member.email, member.tenant_role) for member in members]
        for member in members:
            member_detach(user=member, reason=RevokeReason.MEMBER_REMOVED, actor=user)
        if removed or pending:
            mail_queue(to=user.email, subject=SUBJECT, body=_notice(removed=removed, pending=pending))
            logger.info(
                "User %s proved their mailbox: %d member(s) detached, %d invitation(s) revoked",
                user.id, len(removed), len(pending),
            )


def _notice(*, removed: list[tuple[str, str]], pending: list[Invitation]) -> str:
    lines = [
        "You have just confirmed that this email address is yours.",
        "",
        "Before that, someone who had not proven they own this address could use this account.",
        "To protect you, what it had set up that gives other people access was removed:",
        "",
    ]
    lines += [f"- {email} ({role}) was removed from your organisation" for email, role in removed]
    lines += [f"- the invitation to {invitation.email} ({invitation.role}) was revoked" for invitation in pending]
    lines += ["", "If you set these up yourself, add or invite them again."]
    return "\n".join(lines) + "\n"
