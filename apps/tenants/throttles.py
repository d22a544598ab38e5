"""Throttles of the team endpoints (rates in settings.REST_FRAMEWORK; 429 with Retry-After).
Sending invitations: per inviter, per tenant, and tighter for an unverified inviter."""
from __future__ import annotations

from apps.accounts.throttles import ClientIpThrottle
from apps.core.throttling import WindowThrottle


class InvitationAcceptThrottle(ClientIpThrottle):
    """Accept may create an account (a password hash): bounded per client like register.
    Guessing a token is hopeless anyway (256 random bits)."""

    scope = "invitation_accept"


class InvitationSendThrottle(WindowThrottle):
    """Per inviter: an admin account must not become a relay for mail to arbitrary addresses
    (the tenant's name, which its owner chooses, is in every subject)."""

    scope = "invitation_send"

    def get_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None


class InvitationSendTenantThrottle(WindowThrottle):
    """Per tenant: several admins (or accounts an owner adds) do not multiply the relay."""

    scope = "invitation_send_tenant"

    def get_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        tenant_id = getattr(user, "tenant_id", None) if user is not None and user.is_authenticated else None
        return str(tenant_id) if tenant_id is not None else None


class InvitationSendUnverifiedThrottle(WindowThrottle):
    """Per inviter whose own address is not verified, tighter than `invitation_send`: a fresh
    throwaway account must not get our mail server's full allowance."""

    scope = "invitation_send_unverified"

    def get_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.email_verified:
            return None
        return str(user.pk)
