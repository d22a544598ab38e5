"""Throttles of the team endpoints (rates in settings.REST_FRAMEWORK; 429 with Retry-After)."""
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
