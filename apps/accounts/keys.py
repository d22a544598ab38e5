"""Signing keys: which key signs a token, which keys may verify one, and the public JWKS.

Contract ("Signing keys"):
- Access tokens are signed with `JWT_ALGORITHM`: HS256 with `JWT_SECRET_KEY` (default), or
  EdDSA (Ed25519) / ES256 (P-256) / RS256 (RSA >= 2048 bits) with the PEM `JWT_PRIVATE_KEY`.
  Refresh tokens are always HS256 with `JWT_SECRET_KEY`: only we read them, and HMAC signatures
  are deterministic, which the refresh grace window relies on (same token back, byte for byte).
- Every token carries a `kid`. For a public key it is the RFC 7638 thumbprint, so any verifier
  can recompute it; for an HMAC key it is a truncated SHA-256 of the key, which reveals none of it.
- Verification picks the key by `kid` among the configured keys ONLY, and verifies with that
  key's own algorithm (RFC 8725 section 3.1): the token's `alg` must equal it, so an HS256 token
  "signed" with our public key, an `alg: none` token or a key of another type never verifies.
  Nothing in a token (`jku`, `x5u`, `jwk`, `x5c`) is ever read, let alone fetched.
- A token without `kid` (minted before this release) is checked only as HS256 against
  `JWT_SECRET_KEY` and `JWT_SECRET_KEY_FALLBACKS`, so upgrading logs nobody out.
- Rotation: previous public keys (`JWT_PREVIOUS_PUBLIC_KEYS`) and previous HMAC keys
  (`JWT_SECRET_KEY_FALLBACKS`) keep verifying; a key in neither list stops verifying at once.

The key objects are PyJWT's and `cryptography`'s: JWKs come from PyJWT's `to_jwk`, and
verification keys are `PyJWK`s, which bind the algorithm at construction.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.exceptions import ImproperlyConfigured
from jwt import algorithms
from jwt.utils import base64url_encode

HMAC_ALGORITHM = "HS256"
ASYMMETRIC_ALGORITHMS = ("EdDSA", "ES256", "RS256")
ALGORITHMS = (HMAC_ALGORITHM, *ASYMMETRIC_ALGORITHMS)
MIN_RSA_BITS = 2048
GENERATED_RSA_BITS = 3072
# RFC 7638 section 3.2: the members that define each key type's thumbprint.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
_PEM_PUBLIC_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)
_SETTINGS = ("JWT_ALGORITHM", "JWT_PRIVATE_KEY", "JWT_PREVIOUS_PUBLIC_KEYS", "JWT_SECRET_KEY",
             "JWT_SECRET_KEY_FALLBACKS", "SIMPLE_JWT")


class KeyNotAccepted(Exception):
    """The token names no configured key, or its signature or claims do not verify."""


class KeyExpired(KeyNotAccepted):
    """Signed by a configured key, but past `exp` (plus leeway)."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    algorithm: str
    key: Any  # bytes for HMAC; a PyJWK (algorithm bound) for a public key
    jwk: dict[str, str] | None = None  # the public JWK; None for HMAC keys


@dataclass(frozen=True)
class KeyRing:
    """Every key this process signs or verifies with; built once from settings."""

    access_algorithm: str
    access_kid: str
    access_signing_key: Any  # bytes or a cryptography private key
    hmac_kid: str
    hmac_signing_key: bytes
    hmac_keys: tuple[VerificationKey, ...]  # JWT_SECRET_KEY first, then its fallbacks
    by_kid: dict[str, VerificationKey] = field(default_factory=dict)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys that verify our tokens (current first); never an HMAC key."""
        return {"keys": [dict(k.jwk) for k in self.by_kid.values() if k.jwk is not None]}

    def candidates(self, header: dict[str, Any], *, hmac_only: bool) -> tuple[VerificationKey, ...]:
        """The configured keys that may verify a token with this (unverified) header."""
        if "kid" not in header:
            return self.hmac_keys  # minted before kids existed: HS256 only
        key = self.by_kid.get(header["kid"]) if isinstance(header["kid"], str) else None
        if key is None or (hmac_only and key.algorithm != HMAC_ALGORITHM):
            return ()
        return (key,)


# --- Loading ------------------------------------------------------------------------------------
def _pem_text(value: str) -> bytes:
    # Many platforms and .env files hold a variable on one line: accept "\n" escapes.
    return value.strip().replace("\\n", "\n").encode()


def load_private_key(pem: str | None, *, algorithm: str) -> Any:
    """The private key in `pem`, checked to be one that can sign `algorithm`.

    Raises ImproperlyConfigured with one line naming JWT_PRIVATE_KEY (and never its content).
    """
    if not pem or not pem.strip():
        raise ImproperlyConfigured(
            f"JWT_PRIVATE_KEY must be set when JWT_ALGORITHM={algorithm} (a PEM private key; "
            f"`python manage.py generate_signing_key --algorithm {algorithm}` prints one)."
        )
    try:
        key = serialization.load_pem_private_key(_pem_text(pem), password=None)
    except TypeError:
        raise ImproperlyConfigured(
            "JWT_PRIVATE_KEY is encrypted; give the PEM private key without a passphrase."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ImproperlyConfigured(
            "JWT_PRIVATE_KEY is not a readable PEM private key (expected -----BEGIN PRIVATE KEY-----)."
        ) from None
    _check_key_fits(key, algorithm=algorithm, variable="JWT_PRIVATE_KEY")
    return key


def load_public_keys(text: str | None) -> list[Any]:
    """The PEM public keys in JWT_PREVIOUS_PUBLIC_KEYS (blank-line separated), each checked."""
    if not text or not text.strip():
        return []
    data = _pem_text(text).decode()
    blocks = _PEM_PUBLIC_BLOCK.findall(data)
    if not blocks or _PEM_PUBLIC_BLOCK.sub("", data).strip():
        raise ImproperlyConfigured(
            "JWT_PREVIOUS_PUBLIC_KEYS must hold only PEM public keys (-----BEGIN PUBLIC KEY-----), "
            "separated by blank lines."
        )
    keys = []
    for number, block in enumerate(blocks, start=1):
        try:
            key = serialization.load_pem_public_key(block.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ImproperlyConfigured(
                f"JWT_PREVIOUS_PUBLIC_KEYS: key {number} is not a readable PEM public key."
            ) from None
        _check_key_fits(key, algorithm=algorithm_of(key, variable="JWT_PREVIOUS_PUBLIC_KEYS"),
                        variable="JWT_PREVIOUS_PUBLIC_KEYS")
        keys.append(key)
    return keys


def algorithm_of(key: Any, *, variable: str) -> str:
    """The one algorithm a key is used with: Ed25519 -> EdDSA, P-256 -> ES256, RSA -> RS256."""
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "EdDSA"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return "ES256"
        raise ImproperlyConfigured(f"{variable}: EC keys must be on P-256 (ES256), not {key.curve.name}.")
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RS256"
    raise ImproperlyConfigured(f"{variable}: only Ed25519, P-256 EC and RSA keys are supported.")


def _describe(key: Any) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return f"a {key.key_size}-bit RSA key"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return f"an EC {key.curve.name} key"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "an Ed25519 key"
    return f"a {type(key).__name__.removeprefix('_')}"


def _check_key_fits(key: Any, *, algorithm: str, variable: str) -> None:
    expected = {"EdDSA": "an Ed25519 key", "ES256": "a P-256 EC key", "RS256": "an RSA key"}[algorithm]
    try:
        fits = algorithm_of(key, variable=variable) == algorithm
    except ImproperlyConfigured:
        fits = False
    if not fits:
        raise ImproperlyConfigured(
            f"{variable} is {_describe(key)}, which cannot sign {algorithm} (expected {expected})."
        )
    if algorithm == "RS256" and key.key_size < MIN_RSA_BITS:
        raise ImproperlyConfigured(
            f"{variable} is {_describe(key)}; RS256 needs at least {MIN_RSA_BITS} bits."
        )


# --- Key ids and JWKs ---------------------------------------------------------------------------
def _algorithm_class(algorithm: str) -> type[algorithms.Algorithm]:
    return {"EdDSA": algorithms.OKPAlgorithm, "ES256": algorithms.ECAlgorithm,
            "RS256": algorithms.RSAAlgorithm}[algorithm]


def public_jwk(public_key: Any, *, algorithm: str) -> dict[str, str]:
    """The public JWK (RFC 7517) of a key: kty, kid, alg, use, and its public parameters only.

    PyJWT's `to_jwk` of a *public* key object cannot contain a private member; `key_ops` is
    dropped because RFC 7517 section 4.3 advises against using it with `use`.
    """
    members = _algorithm_class(algorithm).to_jwk(public_key, as_dict=True)
    members.pop("key_ops", None)
    return {**members, "kid": thumbprint(members), "alg": algorithm, "use": "sig"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` of a public key."""
    required = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


def hmac_kid(secret: str) -> str:
    """A stable name for an HMAC key: 16 hex digits of SHA-256 over a label and the key.

    One-way: the kid gives nothing of the key away, in any encoding (the contract's rule); the
    label keeps it from being a plain hash of the key that could be matched elsewhere.
    """
    return "hs256-" + hashlib.sha256(b"authsvc jwt kid\x00" + secret.encode()).hexdigest()[:16]


# --- The key ring -------------------------------------------------------------------------------
def build_keyring(
    *, algorithm: str, private_key: str | None, previous_public_keys: str | None,
    secret_key: str, secret_key_fallbacks: list[str] | tuple[str, ...],
) -> KeyRing:
    """Parse and check every key; raises ImproperlyConfigured with one line naming the variable."""
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(f"JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)} (got {algorithm!r}).")
    hmac_keys: list[VerificationKey] = []
    for secret in (secret_key, *secret_key_fallbacks):
        kid = hmac_kid(secret)
        if all(k.kid != kid for k in hmac_keys):
            hmac_keys.append(VerificationKey(kid=kid, algorithm=HMAC_ALGORITHM, key=secret.encode()))
    public_keys: list[tuple[Any, str]] = []  # (public key, its algorithm), current first
    if algorithm == HMAC_ALGORITHM:
        if private_key and private_key.strip():
            raise ImproperlyConfigured(
                "JWT_PRIVATE_KEY is set but JWT_ALGORITHM is HS256: set JWT_ALGORITHM to the key's "
                "algorithm, or move its public key to JWT_PREVIOUS_PUBLIC_KEYS and unset JWT_PRIVATE_KEY."
            )
        access_signing_key: Any = hmac_keys[0].key
    else:
        access_signing_key = load_private_key(private_key, algorithm=algorithm)
        public_keys.append((access_signing_key.public_key(), algorithm))
    for key in load_public_keys(previous_public_keys):
        public_keys.append((key, algorithm_of(key, variable="JWT_PREVIOUS_PUBLIC_KEYS")))

    by_kid: dict[str, VerificationKey] = {}
    for key, key_algorithm in public_keys:
        jwk = public_jwk(key, algorithm=key_algorithm)
        by_kid.setdefault(jwk["kid"], VerificationKey(
            kid=jwk["kid"], algorithm=key_algorithm, key=jwt.PyJWK(jwk, algorithm=key_algorithm), jwk=jwk,
        ))
    for key in hmac_keys:
        by_kid.setdefault(key.kid, key)
    access_kid = next(iter(by_kid)) if algorithm != HMAC_ALGORITHM else hmac_keys[0].kid
    return KeyRing(
        access_algorithm=algorithm, access_kid=access_kid, access_signing_key=access_signing_key,
        hmac_kid=hmac_keys[0].kid, hmac_signing_key=hmac_keys[0].key, hmac_keys=tuple(hmac_keys),
        by_kid=by_kid,
    )


@functools.cache
def keyring() -> KeyRing:
    """This process's keys, from settings (already checked at start-up by config/settings)."""
    from django.conf import settings

    return build_keyring(
        algorithm=settings.JWT_ALGORITHM,
        private_key=settings.JWT_PRIVATE_KEY,
        previous_public_keys=settings.JWT_PREVIOUS_PUBLIC_KEYS,
        secret_key=settings.SIMPLE_JWT["SIGNING_KEY"],
        secret_key_fallbacks=settings.JWT_SECRET_KEY_FALLBACKS,
    )


def _reset_on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in _SETTINGS:
        keyring.cache_clear()
        _verified_access.cache_clear()


def connect_signals() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_reset_on_setting_changed, dispatch_uid="apps.accounts.keys")


# --- Signing and verifying ----------------------------------------------------------------------
class _HMACKeyCheckedOnce(algorithms.HMACAlgorithm):
    """PyJWT's HS256, with its key check done once per key rather than on every token.

    PyJWT refuses an asymmetric key or certificate as an HMAC secret (CVE-2022-29217) by
    trying to parse the key as PEM, SSH and DER on every sign and verify: ~7 us each, three
    times per refresh. The keys here are our configured secrets, so the verdict for a key
    never changes: it is kept (a refused key raises every time, as exceptions are not cached).
    """

    @functools.lru_cache(maxsize=32)  # noqa: B019 - one instance, lives as long as the process
    def prepare_key(self, key: str | bytes) -> bytes:
        return super().prepare_key(key)


# Our own PyJWT instance (the module-level jwt.encode/decode are another's): the same claim
# validation and JWS code, with HS256 as above. PyJWT keeps its JWS object in `_jws`.
_jwt = jwt.PyJWT()
_jwt._jws.unregister_algorithm(HMAC_ALGORITHM)
_jwt._jws.register_algorithm(HMAC_ALGORITHM, _HMACKeyCheckedOnce(_HMACKeyCheckedOnce.SHA256))


def sign_access(claims: dict[str, Any]) -> str:
    ring = keyring()
    return _jwt.encode(claims, ring.access_signing_key, algorithm=ring.access_algorithm,
                       headers={"kid": ring.access_kid})


def sign_refresh(claims: dict[str, Any]) -> str:
    """HS256 with JWT_SECRET_KEY: deterministic, so the same claims give the same bytes."""
    ring = keyring()
    return _jwt.encode(claims, ring.hmac_signing_key, algorithm=HMAC_ALGORITHM, headers={"kid": ring.hmac_kid})


def unverified_header(token: str | bytes) -> dict[str, Any]:
    """The JOSE header, read only to choose among our keys (KeyNotAccepted if unreadable).

    Lenient where PyJWT is strict (its decode checks every character of every segment): the
    token is then decoded by PyJWT in full, strictly, with the key chosen here and that key's
    own algorithm, so a header this reads and PyJWT would refuse only ever ends in a refusal.
    Reading it here, rather than with jwt.get_unverified_header, saves PyJWT's first full
    parse of the token (~20 us of a refresh).
    """
    raw = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token
    head, dot, _ = raw.partition(b".")
    try:
        if not dot:
            raise ValueError("no segments")
        header = json.loads(base64.urlsafe_b64decode(head + b"=" * (-len(head) % 4)))
    except (ValueError, TypeError, RecursionError, binascii.Error) as exc:
        raise KeyNotAccepted("Token is malformed.") from exc
    if not isinstance(header, dict):
        raise KeyNotAccepted("Token is malformed.")
    return header


# Verified access tokens, newest used last. A bearer token is presented on every request of
# its lifetime (minutes), and verifying it again costs ~70 us of PyJWT per request (two strict
# base64/JSON parses and the signature): ~9 % of a `GET /api/auth/me/` worker's CPU. Only a
# token that verified enters, keyed by its exact bytes and the verification parameters, so an
# entry can only ever answer for the token that was checked. `exp` is the one verdict that
# changes with time (a token failing `nbf`/`iat` is never cached): it is checked again on
# every hit, exactly as PyJWT checks it. Revocation is not a property of the signature: it is
# checked per request by the caller (apps/accounts/authentication.py). Cleared with the key
# ring when key settings change; ~2 KB per entry, so at most ~4 MB per process.
VERIFIED_CACHE_SIZE = 2048


@functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _verified_access(token: str | bytes, audience: str | None, issuer: str | None, leeway: timedelta) -> dict[str, Any]:
    return _verify(token, hmac_only=False, audience=audience, issuer=issuer, leeway=leeway, verify_signature=True)


def verify(
    token: str | bytes, *, hmac_only: bool, audience: str | None, issuer: str | None, leeway: timedelta,
    verify_signature: bool = True,
) -> dict[str, Any]:
    """The claims of a token signed by one of our configured keys, else KeyNotAccepted.

    `hmac_only` (refresh tokens): only JWT_SECRET_KEY and its fallbacks are candidates; those
    are single-use, so they are verified afresh every time (never cached).
    """
    if hmac_only or not verify_signature:
        return _verify(token, hmac_only=hmac_only, audience=audience, issuer=issuer, leeway=leeway,
                       verify_signature=verify_signature)
    claims = _verified_access(token, audience, issuer, leeway)
    exp = claims.get("exp")
    # PyJWT's own test (api_jwt._validate_exp): expired when exp <= now - leeway.
    if exp is not None and exp <= datetime.now(tz=UTC).timestamp() - leeway.total_seconds():
        raise KeyExpired("Token is expired.")
    return dict(claims)  # a copy: the caller's token object may change its payload


def _verify(
    token: str | bytes, *, hmac_only: bool, audience: str | None, issuer: str | None, leeway: timedelta,
    verify_signature: bool,
) -> dict[str, Any]:
    header = unverified_header(token)
    candidates = keyring().candidates(header, hmac_only=hmac_only)
    if not candidates:
        raise KeyNotAccepted("Token is not signed by a configured key.")
    options = {"verify_aud": audience is not None, "verify_signature": verify_signature}
    for candidate in candidates:
        if header.get("alg") != candidate.algorithm:
            continue  # e.g. HS256 with an EdDSA kid: never verify a key with another algorithm
        try:
            claims = _jwt.decode(token, candidate.key, algorithms=[candidate.algorithm], audience=audience,
                                 issuer=issuer, leeway=leeway, options=options)
        except jwt.ExpiredSignatureError as exc:
            raise KeyExpired("Token is expired.") from exc
        except jwt.InvalidSignatureError:
            continue  # a kid-less token may be signed by a fallback key
        except (jwt.InvalidTokenError, OverflowError) as exc:  # PyJWT's int(exp) of an infinity
            raise KeyNotAccepted("Token is invalid.") from exc
        _check_time_claims(claims)
        return claims
    raise KeyNotAccepted("Token is invalid.")


# 9999-12-31T23:59:59Z, the last second a datetime holds.
_LAST_TIMESTAMP = 253402300799


def _check_time_claims(claims: dict[str, Any]) -> None:
    """`exp`, `nbf` and `iat`, when present, are finite numbers between 1970 and year 9999;
    else KeyNotAccepted. We never mint anything else, and simplejwt turns `exp` into a datetime,
    which raises OverflowError (a 500) for a signed `exp` of 1e20; NaN fails every comparison
    and so passes PyJWT's own checks."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _LAST_TIMESTAMP:
            raise KeyNotAccepted("Token is invalid.")


# --- Generating ---------------------------------------------------------------------------------
def generate_private_key(algorithm: str) -> Any:
    """A new private key for `algorithm` (RSA: 3072 bits, NIST's size for use beyond 2030)."""
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_RSA_BITS)
    raise ValueError(f"algorithm must be one of {', '.join(ASYMMETRIC_ALGORITHMS)}")


def private_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
