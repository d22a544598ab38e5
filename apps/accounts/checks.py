"""The signing keys' check for `manage.py check_services` (registered in AccountsConfig.ready)."""
from __future__ import annotations

from django.conf import settings

from apps.accounts.keys import keyring  # keys were parsed and checked at start-up
from apps.core.service_checks import CheckFailed
from config.env import is_set


def keys_check() -> str:
    missing = [name for name in ("SECRET_KEY", "JWT_SECRET_KEY") if not is_set(name)]
    if missing:
        # In DEBUG the process makes up random keys, which die with it: not deployable.
        raise CheckFailed(f"{' and '.join(missing)} not set")
    if settings.SECRET_KEY == settings.JWT_SECRET_KEY:
        raise CheckFailed("JWT_SECRET_KEY equals SECRET_KEY")
    if not settings.SIMPLE_JWT.get("SIGNING_KEY"):
        raise CheckFailed("no token signing key")
    ring = keyring()
    previous = sum(1 for key in ring.by_kid.values() if key.jwk is not None) - (ring.access_algorithm != "HS256")
    # kids are public (RFC 7638 thumbprints, or a one-way hash of an HMAC key): safe to print.
    return (f"configured (access tokens {ring.access_algorithm}, kid {ring.access_kid}; "
            f"{previous} previous public key(s), {len(ring.hmac_keys) - 1} HMAC fallback(s))")
