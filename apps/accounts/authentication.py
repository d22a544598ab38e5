"""Bearer authentication: simplejwt's signature/expiry checks, plus the account's state.

The user and tenant come from one query. A token is refused (401 token_not_valid) when the
user is gone or may not authenticate (`User.authentication_refusal`), or the token was issued
before the user's `tokens_valid_after` (logout-all, password change, deactivation): so those
revoke every earlier access token at once, while a single-session logout leaves access tokens
to expire.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from apps.accounts.models import Refusal, User
from apps.accounts.tokens import SESSION_CLAIM
from apps.core import clock
from apps.core.exceptions import TokenNotValid
from apps.core.prepared import PreparedPkLookup

_user_with_tenant: PreparedPkLookup[User] = PreparedPkLookup(
    lambda: User.objects.select_related("tenant"), prepare_as="authsvc_user_with_tenant"
)

_REFUSED = {Refusal.USER_INACTIVE: "User not found or inactive.", Refusal.TENANT_INACTIVE: "Tenant inactive."}


def user_for_access_token(token: Token) -> User:
    """The live user behind a validated access token, or TokenNotValid."""
    try:
        user_id = uuid.UUID(str(token.get("user_id")))
        # We only mint uuid sids; anything else is forged or corrupt, however well signed.
        if token.get(SESSION_CLAIM) is not None:
            uuid.UUID(str(token[SESSION_CLAIM]))
    except ValueError as exc:
        raise TokenNotValid() from exc
    # The most frequent query of all (every authenticated request): compiled once
    # (apps/core/prepared.py), the same SQL and objects as select_related("tenant").get().
    user = _user_with_tenant.get(user_id)
    if user is None:
        raise TokenNotValid("User not found or inactive.")
    refusal = user.authentication_refusal()
    if refusal is not None:
        raise TokenNotValid(_REFUSED[refusal])
    if user.tokens_valid_after is not None:
        issued_at = token.get("iat")
        if not isinstance(issued_at, (int, float)) or issued_at < clock.epoch_seconds(user.tokens_valid_after):
            raise TokenNotValid("Token has been revoked.")
    return user


class SessionAwareJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def get_header(self, request: Any) -> bytes | None:
        # simplejwt encodes the header as latin-1 (HTTP's charset); a str that cannot be
        # (possible in-process and under some ASGI servers) is a malformed token, not a 500.
        try:
            return super().get_header(request)
        except UnicodeEncodeError as exc:
            raise TokenNotValid() from exc

    def get_raw_token(self, header: bytes) -> bytes | None:
        # "Bearer" with no token, or with several, is a malformed token (contract: 401
        # token_not_valid), not simplejwt's own "bad_authorization_header" code.
        try:
            return super().get_raw_token(header)
        except AuthenticationFailed as exc:
            raise TokenNotValid() from exc

    def get_validated_token(self, raw_token: bytes) -> Token:
        # Before any parsing: a hostile 1 MB token costs a length check, not a base64 decode.
        if len(raw_token) > settings.JWT_MAX_TOKEN_LENGTH:
            raise TokenNotValid()
        return super().get_validated_token(raw_token)

    def get_user(self, validated_token: Token) -> Any:
        return user_for_access_token(validated_token)
