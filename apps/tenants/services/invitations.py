"""Invitations: invite by email, revoke, accept (as a new account or an existing one).

Guarantees, and why
-------------------
- The token is 32 random bytes (`secrets.token_urlsafe(32)`), sent only in the email and
  stored only as its SHA-256: a leaked table opens no door. A hash of a 256-bit random value
  needs no salt or slow hash (nothing to brute-force), and an exact-match index lookup on it
  leaks nothing useful through timing.
- A token works once, until `INVITATION_TTL_SECONDS`, and never after the invitation was
  deleted. Used, expired, deleted and unknown tokens give the same 400 `invalid_token`, so
  the answer tells an attacker nothing about which it was.
- Single use under concurrency: accept reads the invitation with SELECT ... FOR UPDATE
  (PostgreSQL; SQLite transactions are BEGIN IMMEDIATE, see settings) and marks it accepted
  in the same transaction, so of two concurrent accepts exactly one wins; the other then sees
  an accepted invitation (400 invalid_token). A refused accept (weak password, taken email)
  rolls back whole, leaving the link usable.
- An invitation proves the address: an account created or joined through one has
  `email_verified` true.
- At most one open invitation per address and tenant (a partial unique constraint, so even
  concurrent invites cannot make two); an expired one is closed when the address is invited
  again.
- The tenant's name, which its owner chose, is rendered inert (`apps.mail.text.plain_name`:
  no scheme, host-like tokens broken, one line), so an invitation cannot carry a link we did
  not write; invitations are limited per inviter, per tenant, and tighter for an inviter whose
  address is not verified (apps/tenants/throttles.py).
- The email is queued with `apps.mail.services.mail_queue` inside the transaction: it is sent
  only if the invitation was committed, and never on the request's critical path.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.accounts.managers import normalize_email
from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core import clock
from apps.core.exceptions import (
    AlreadyInTenant,
    InvalidInput,
    InvitationTokenInvalid,
    NotFound,
    TenantInactive,
)
from apps.core.ids import parse_uuid
from apps.core.links import link
from apps.mail.services import mail_queue
from apps.mail.text import plain_name
from apps.tenants.models import Invitation, Tenant
from apps.tenants.services.members import ensure_grantable

logger = logging.getLogger(__name__)

TOKEN_BYTES = 32
TOKEN_MAX_LENGTH = 256  # ours are 43 characters; longer is garbage, refused before hashing
HAS_ACCOUNT_IN_TENANT = "This email already has an account in a tenant."
ALREADY_INVITED = "This email already has a pending invitation to this tenant."
LOG_IN_FIRST = "An account with this email exists: log in as it, then accept the invitation."
OTHER_ADDRESS = "This invitation was sent to another email address."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def accept_link(token: str) -> str:
    """INVITE_ACCEPT_URL with `{token}` filled in (`link`: URL-encoded, like every emailed URL)."""
    return link(settings.INVITE_ACCEPT_URL, token=token)


def _invitation_email(*, invitation: Invitation, token: str) -> tuple[str, str]:
    tenant_name = plain_name(invitation.tenant.name)  # inert text: no link in our name (apps/mail/text.py)
    subject = f"You are invited to join {tenant_name}"
    body = (
        f"You have been invited to join {tenant_name} as {invitation.role}.\n"
        "\n"
        "To accept, open this link:\n"
        f"{accept_link(token)}\n"
        "\n"
        f"The link works once and expires at {invitation.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        "If you did not expect this invitation, you can ignore this email.\n"
    )
    return subject, body


@transaction.atomic
def invitation_create(
    *, tenant: Tenant, email: str, role: str, invited_by: User, ip: str | None = None,
    user_agent: str | None = None,
) -> Invitation:
    """Invite `email` to the tenant with `role` (admin/member) and queue the email.

    400 invalid when the address already has an account in a tenant (this one included) or a
    pending invitation to this tenant; 403 for role `owner`.
    """
    ensure_grantable(role)
    email = normalize_email(email)
    if User.objects.filter(email=email, tenant__isnull=False).exists():
        raise InvalidInput({"email": [HAS_ACCOUNT_IN_TENANT]})
    now = clock.now()
    open_ = Invitation.objects.filter(tenant=tenant, email=email, accepted_at__isnull=True, revoked_at__isnull=True)
    open_.filter(expires_at__lte=now).update(revoked_at=now)  # expired: make room for the new one
    if open_.exists():
        raise InvalidInput({"email": [ALREADY_INVITED]})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        tenant=tenant, email=email, role=role, token_hash=token_hash(token), invited_by=invited_by,
        created_at=now, expires_at=now + timedelta(seconds=settings.INVITATION_TTL_SECONDS),
    )
    try:
        with transaction.atomic():
            invitation.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent invite of the same address won
        raise InvalidInput({"email": [ALREADY_INVITED]}) from exc
    subject, body = _invitation_email(invitation=invitation, token=token)
    mail_queue(to=email, subject=subject, body=body)
    event_record(type=EventType.INVITATION_SENT, user=invited_by, ip=ip, user_agent=user_agent)
    logger.info("Invitation %s to tenant %s sent by user %s", invitation.id, tenant.id, invited_by.id)
    return invitation


@transaction.atomic
def invitation_revoke(*, tenant: Tenant, invitation_id: Any) -> None:
    """DELETE: the link stops working at once. Only this tenant's open invitations exist
    for the caller (another tenant's id, an accepted or already deleted one: 404)."""
    invitation = None
    if parse_uuid(invitation_id) is not None:
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
    if invitation is None:
        raise NotFound("No such invitation.")
    invitation.revoked_at = clock.now()
    invitation.save(update_fields=["revoked_at"])
    logger.info("Invitation %s of tenant %s revoked", invitation.id, tenant.id)




def _locked_pending(token: Any) -> Invitation:
    """The pending invitation behind `token`, row locked until the transaction ends."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise InvitationTokenInvalid()
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("tenant")
        .filter(token_hash=token_hash(token)).order_by().first()
    )
    if invitation is None or invitation.status_at(clock.now()) != "pending":
        raise InvitationTokenInvalid()
    if not invitation.tenant.is_active:
        raise TenantInactive("The organisation of this invitation is inactive.")
    return invitation


def _accept(invitation: Invitation, *, user: User, ip: str | None, user_agent: str | None) -> None:
    invitation.accepted_at, invitation.accepted_by = clock.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    event_record(type=EventType.INVITATION_ACCEPTED, user=user, ip=ip, user_agent=user_agent)
    logger.info("Invitation %s accepted by user %s (tenant %s)", invitation.id, user.id, invitation.tenant_id)


@transaction.atomic
def invitation_accept_new_account(
    *, token: str, password: str | None = None, first_name: str = "", last_name: str = "",
    ip: str | None = None, user_agent: str | None = None,
) -> User:
    """A new account for the invited address, in the tenant with the invited role.

    400 invalid_token (unusable token), 400 invalid (an account with the address exists:
    its owner must log in and accept; weak or missing password), 403 tenant_inactive.
    """
    invitation = _locked_pending(token)
    if User.objects.filter(email=invitation.email).exists():
        raise InvalidInput(LOG_IN_FIRST)
    if not password:
        raise InvalidInput({"password": ["This field is required."]})
    user = user_create(
        email=invitation.email, password=password, first_name=first_name, last_name=last_name,
        tenant=invitation.tenant, role=invitation.role,
    )
    user.email_verified = True  # the invitation proved the address
    user.save(update_fields=["email_verified"])
    _accept(invitation, user=user, ip=ip, user_agent=user_agent)
    return user


@transaction.atomic
def invitation_accept_existing_account(
    *, token: str, user: User, ip: str | None = None, user_agent: str | None = None,
) -> User:
    """The logged-in account joins the tenant with the invited role.

    400 invalid_token (unusable token), then 409 already_in_tenant (whoever the invitation is
    for: an account in a tenant accepts none), then 400 invalid (the invitation is for
    another address); 403 tenant_inactive. Earlier access tokens stay valid: they claim
    no tenant, which grants less, never more; the next refresh carries the new claims.
    """
    invitation = _locked_pending(token)
    member = User.objects.select_for_update().filter(pk=user.pk).order_by().get()
    if member.tenant_id is not None:  # first: such an account can accept no invitation at all
        raise AlreadyInTenant()
    if normalize_email(member.email) != invitation.email:
        raise InvalidInput(OTHER_ADDRESS)
    member.tenant, member.role = invitation.tenant, invitation.role
    member.email_verified = True  # the token reached this address
    member.save(update_fields=["tenant", "role", "email_verified"])
    _accept(invitation, user=member, ip=ip, user_agent=user_agent)
    return member
