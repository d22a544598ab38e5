"""Our JWTs: simplejwt token classes carrying the contract's claims.

Access: token_type, exp, iat, jti, user_id, email, tenant_id, tenant_slug, enabled_modules,
iss, aud, plus `sid` (the session that minted it, so /sessions/ can say which is current and
password change knows which session to keep).
Refresh: token_type, exp, iat, jti, user_id, iss, aud, sid. Refresh tokens are never stored:
the session row holds jti/iat/exp of the current one, and `mint_refresh` rebuilds it from
those byte for byte (HS256 and simplejwt's payload encoding are deterministic).

`iss`/`aud` are added on encode and required on decode by simplejwt's TokenBackend (PyJWT
raises MissingRequiredClaimError when either is absent); the algorithm is pinned to HS256.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token, UntypedToken

from apps.core import clock
from apps.core.exceptions import TokenNotValid

logger = logging.getLogger(__name__)

SESSION_CLAIM = "sid"


class TenantAccessToken(AccessToken):
    """Bearer token; see the module docstring for its claims."""


class SessionRefreshToken(RefreshToken):
    """Refresh token of one session (`sid`); rotated by apps.accounts.services.sessions."""

    no_copy_claims = (*RefreshToken.no_copy_claims, SESSION_CLAIM)


def new_jti() -> str:
    return uuid.uuid4().hex


def tenant_claims(user: Any) -> dict[str, Any]:
    """Tenant claims that are right for a user without a tenant, or a tenant whose
    `enabled_modules` is None or missing on the instance (both give [])."""
    tenant = user.tenant if user.tenant_id else None
    if tenant is None:
        return {"tenant_id": None, "tenant_slug": None, "enabled_modules": []}
    modules = getattr(tenant, "enabled_modules", None)
    return {
        "tenant_id": str(tenant.id),
        "tenant_slug": tenant.slug,
        "enabled_modules": list(modules) if isinstance(modules, (list, tuple)) else [],
    }


def access_issued_at(user: Any, now: datetime) -> int:
    """iat for a new access token: never before the user's `tokens_valid_after`.

    Revocation sets tokens_valid_after to the next whole second, and authentication rejects
    iat < tokens_valid_after. Tokens minted before a revocation have iat <= its second, so
    they die; tokens minted after it get iat = tokens_valid_after at the earliest, so they
    live, even within the same second (at most 1 s in the future, inside the 5 s leeway).
    """
    iat = clock.epoch_seconds(now)
    if user.tokens_valid_after is not None:
        iat = max(iat, clock.epoch_seconds(user.tokens_valid_after))
    return iat


def mint_access(*, user: Any, session_id: uuid.UUID | str, now: datetime) -> str:
    token = TenantAccessToken()
    iat = access_issued_at(user, now)
    token.payload["iat"] = iat
    token.payload["exp"] = iat + int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    token["user_id"] = str(user.id)
    token["email"] = user.email
    token.payload.update(tenant_claims(user))
    token[SESSION_CLAIM] = str(session_id)
    return str(token)


def mint_refresh(
    *, user_id: uuid.UUID | str, session_id: uuid.UUID | str, jti: str, issued_at: datetime,
    expires_at: datetime,
) -> str:
    """The refresh token with exactly these claims: same inputs, same bytes."""
    token = SessionRefreshToken()
    token.payload = {
        "token_type": "refresh",
        "exp": clock.epoch_seconds(expires_at),
        "iat": clock.epoch_seconds(issued_at),
        "jti": jti,
        "user_id": str(user_id),
        SESSION_CLAIM: str(session_id),
    }
    return str(token)


def _decode(token_class: type[Token], raw: str) -> Token:
    if not isinstance(raw, str) or not raw or len(raw) > settings.JWT_MAX_TOKEN_LENGTH:
        raise TokenNotValid()
    try:
        return token_class(raw)
    except TokenError as exc:
        raise TokenNotValid(str(exc)) from exc


def decode_refresh(raw: str) -> SessionRefreshToken:
    """A signed, unexpired refresh token with a session id; else TokenNotValid (401)."""
    token = _decode(SessionRefreshToken, raw)
    if not isinstance(token.get(SESSION_CLAIM), str) or not isinstance(token.get("jti"), str):
        raise TokenNotValid()
    return token


def decode_untyped(raw: str) -> Token:
    """Signature, expiry, iss and aud checked; the type is left to the caller."""
    return _decode(UntypedToken, raw)
