"""Our JWTs: simplejwt token classes carrying the contract's claims.

Access: token_type, exp, iat, jti, user_id, email, email_verified, tenant_id, tenant_slug, enabled_modules,
iss, aud, plus `sid` (the session that minted it, so /sessions/ can say which is current and
password change knows which session to keep).
Refresh: token_type, exp, iat, jti, user_id, iss, aud, sid. Refresh tokens are never stored:
the session row holds jti/iat/exp of the current one, and `mint_refresh` rebuilds it from
those byte for byte (HS256 and simplejwt's payload encoding are deterministic).

Keys come from apps.accounts.keys: access tokens are signed with JWT_ALGORITHM's key, refresh
tokens always HS256 with JWT_SECRET_KEY; every token carries a `kid`, and verification takes
the key by `kid` among the configured ones only. `iss`/`aud` are added on encode and required
on decode (PyJWT raises MissingRequiredClaimError when either is absent), as simplejwt's
TokenBackend does; `KeyRingBackend` keeps that backend's interface so simplejwt's Token
classes (and JWTAuthentication) work unchanged on top of it.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token, UntypedToken

from apps.accounts import keys
from apps.core import clock
from apps.core.exceptions import TokenNotValid

logger = logging.getLogger(__name__)

SESSION_CLAIM = "sid"


class KeyRingBackend:
    """simplejwt's TokenBackend interface (encode, decode, get_leeway) over our key ring.

    `refresh=True`: signs HS256 with JWT_SECRET_KEY and verifies with HMAC keys only.
    Otherwise signs with JWT_ALGORITHM's key and verifies with any configured key (by kid).
    """

    def __init__(self, *, refresh: bool) -> None:
        self.refresh = refresh

    def get_leeway(self) -> timedelta:
        return settings.SIMPLE_JWT["LEEWAY"]

    def encode(self, payload: dict[str, Any]) -> str:
        claims = {**payload, "aud": settings.SIMPLE_JWT["AUDIENCE"], "iss": settings.SIMPLE_JWT["ISSUER"]}
        return keys.sign_refresh(claims) if self.refresh else keys.sign_access(claims)

    def decode(self, token: str, verify: bool = True) -> dict[str, Any]:
        try:
            return keys.verify(
                token, hmac_only=self.refresh, audience=settings.SIMPLE_JWT["AUDIENCE"],
                issuer=settings.SIMPLE_JWT["ISSUER"], leeway=self.get_leeway(), verify_signature=verify,
            )
        except keys.KeyExpired as exc:
            raise TokenBackendExpiredToken(str(exc)) from exc
        except keys.KeyNotAccepted as exc:
            raise TokenBackendError(str(exc)) from exc


_ACCESS_BACKEND = KeyRingBackend(refresh=False)
_REFRESH_BACKEND = KeyRingBackend(refresh=True)


class TenantAccessToken(AccessToken):
    """Bearer token; see the module docstring for its claims."""

    def get_token_backend(self) -> KeyRingBackend:
        return _ACCESS_BACKEND


class SessionRefreshToken(RefreshToken):
    """Refresh token of one session (`sid`); rotated by apps.accounts.services.sessions."""

    no_copy_claims = (*RefreshToken.no_copy_claims, SESSION_CLAIM)

    def get_token_backend(self) -> KeyRingBackend:
        return _REFRESH_BACKEND


class AnyToken(UntypedToken):
    """A token of either type, verified with any configured key (the /verify/ endpoint)."""

    def get_token_backend(self) -> KeyRingBackend:
        return _ACCESS_BACKEND


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
    token["email_verified"] = bool(getattr(user, "email_verified", False))
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
    return _decode(AnyToken, raw)
