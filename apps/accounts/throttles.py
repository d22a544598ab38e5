"""Throttles of the auth endpoints (rates in settings.REST_FRAMEWORK; 429 with Retry-After)."""
from __future__ import annotations

from apps.accounts.managers import normalize_email
from apps.core.client_ip import client_ip
from apps.core.throttling import WindowThrottle


class ClientIpThrottle(WindowThrottle):
    def get_ident(self, request, view) -> str | None:
        return client_ip(request) or "unknown"


class LoginIpThrottle(ClientIpThrottle):
    scope = "login_ip"


class LoginEmailThrottle(WindowThrottle):
    """Per target account, whatever address the attempts come from."""

    scope = "login_email"

    def get_ident(self, request, view) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        return normalize_email(email) if isinstance(email, str) and email.strip() else None


class RegisterThrottle(ClientIpThrottle):
    scope = "register"


class RefreshThrottle(ClientIpThrottle):
    scope = "refresh"


class PasswordChangeThrottle(WindowThrottle):
    scope = "password_change"

    def get_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None
