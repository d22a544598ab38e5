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


class EmailThrottle(WindowThrottle):
    """Per target account (the body's `email`), whatever address the attempts come from."""

    def get_ident(self, request, view) -> str | None:
        email = request.data.get("email") if hasattr(request.data, "get") else None
        return normalize_email(email) if isinstance(email, str) and email.strip() else None


class LoginEmailThrottle(EmailThrottle):
    """Failed logins per account (wrong password, inactive, unverified; contract "Errors"):
    the view records each failure; a correct login never counts."""

    scope = "login_email"
    count_every_attempt = False


class PasswordResetIpThrottle(ClientIpThrottle):
    scope = "password_reset_ip"


class PasswordResetEmailThrottle(EmailThrottle):
    """Reset requests per email, counted whether or not the account exists (same answer)."""

    scope = "password_reset_email"


class PasswordResetConfirmThrottle(ClientIpThrottle):
    scope = "password_reset_confirm"


class EmailVerifyThrottle(ClientIpThrottle):
    scope = "email_verify"


class RegisterThrottle(ClientIpThrottle):
    scope = "register"


class RefreshThrottle(ClientIpThrottle):
    scope = "refresh"


class UserThrottle(WindowThrottle):
    def get_ident(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None


class PasswordChangeThrottle(UserThrottle):
    scope = "password_change"


class EmailVerifyResendThrottle(UserThrottle):
    scope = "email_verify_resend"


class AdminLoginIpThrottle(LoginIpThrottle):
    """The Django admin's login, per client: the API's `login_ip` counter (same scope, same
    key), counting failures only (the admin form records them), so a guesser cannot spread
    attempts over the two doors."""

    count_every_attempt = False


class AdminLoginEmailThrottle(LoginEmailThrottle):
    """The Django admin's login, per account: the API's `login_email` counter (failures)."""
