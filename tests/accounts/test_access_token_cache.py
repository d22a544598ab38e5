"""The shortcuts in token verification (apps/accounts/keys.py) answer exactly as the long way:
verified access tokens remembered per process, whatever happened since the first check; our
HS256 with its key check done once; the JOSE header read once, leniently, to choose the key."""
from __future__ import annotations

import time

import pytest
from django.conf import settings

from apps.accounts import keys
from apps.accounts.services import get_tokens_for_user
from tests.support import bearer


def test_an_accepted_token_is_refused_once_it_expires_exactly_as_a_never_seen_one(api, user, clock):
    seen = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    unseen = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert api.me(seen).status_code == 200  # verified and remembered

    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + settings.SIMPLE_JWT["LEEWAY"]
    clock.advance(seconds=lifetime.total_seconds() - 30)
    assert api.me(seen).status_code == 200  # inside exp + leeway: still good
    clock.advance(seconds=31)
    expired_seen, expired_unseen = api.me(seen), api.me(unseen)
    assert expired_seen.status_code == 401
    assert expired_seen.json() == expired_unseen.json()
    assert expired_seen.json()["code"] == "token_not_valid"


def test_a_remembered_token_is_refused_when_its_key_is_no_longer_configured(api, user, settings):
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert api.me(access).status_code == 200
    settings.JWT_SECRET_KEY_FALLBACKS = []
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "a-brand-new-jwt-signing-key-" + "n" * 30}
    settings.JWT_SECRET_KEY = settings.SIMPLE_JWT["SIGNING_KEY"]
    response = api.me(access)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_remembered_token_does_not_vouch_for_an_altered_copy(api, user):
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert api.me(access).status_code == 200
    header, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for altered in (f"{header}.{payload}.{flipped}", f"{header}.{payload}.", f"{header}.{payload}.{signature}A"):
        response = api.me(altered)
        assert response.status_code == 401, altered
        assert response.json()["code"] == "token_not_valid"


def test_a_remembered_token_is_still_revoked_by_logout_everywhere(user):
    tokens = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")
    client = bearer(tokens["access"])
    assert client.get("/api/auth/me/").status_code == 200
    assert client.post("/api/auth/logout-all/").status_code in (200, 204)
    response = client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_the_cache_is_bounded_and_holds_only_tokens_that_verified(api, user):
    keys._verified_access.cache_clear()
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert api.me("eyJhbGciOiJIUzI1NiJ9.e30.bm9wZQ").status_code == 401
    assert keys._verified_access.cache_info().currsize == 0  # a failure is never remembered
    assert api.me(access).status_code == 200
    assert api.me(access).status_code == 200
    info = keys._verified_access.cache_info()
    assert (info.currsize, info.hits, info.maxsize) == (1, 1, keys.VERIFIED_CACHE_SIZE)


# --- PyJWT as we call it (apps/accounts/keys.py) ----------------------------------------------
def test_our_hs256_signs_byte_for_byte_as_pyjwt_and_verifies_its_tokens():
    import jwt

    key, claims = b"k" * 48, {"sub": "x", "exp": 4102444800, "iss": "i", "aud": "a"}
    ours = keys._jwt.encode(claims, key, algorithm="HS256", headers={"kid": "abc"})
    assert ours == jwt.encode(claims, key, algorithm="HS256", headers={"kid": "abc"})
    assert keys._jwt.decode(ours, key, algorithms=["HS256"], audience="a", issuer="i")["sub"] == "x"


def test_our_hs256_still_refuses_a_public_key_as_its_secret_every_time():
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public_pem = keys.public_pem(ed25519.Ed25519PrivateKey.generate()).encode()
    for _ in range(2):  # the refusal is not remembered as a success
        with pytest.raises(jwt.InvalidKeyError):
            keys._jwt.encode({"sub": "x"}, public_pem, algorithm="HS256")


@pytest.mark.parametrize("mangle", [
    lambda h: h + "!",            # a character PyJWT's strict base64 refuses, which the header read skips
    lambda h: h + "==",           # padding
    lambda h: h[:-2],             # cut
    lambda h: "e30",              # {} : no kid, no alg
    lambda h: "W10",              # [] : not an object
    lambda h: "",                 # empty
])
def test_a_header_read_leniently_never_gets_a_token_accepted(api, user, mangle):
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    header, payload, signature = access.split(".")
    response = api.me(f"{mangle(header)}.{payload}.{signature}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_unreadable_headers_are_refused_as_malformed():
    for token in ("", "no-dots", "%%%.e30.x", "bm90IGpzb24.e30.x", "\ud800.e30.x"):
        with pytest.raises(keys.KeyNotAccepted):
            keys.unverified_header(token)


def test_the_remembered_claims_are_checked_for_expiry_on_every_use(user, clock):
    """keys.verify itself, below simplejwt's own exp check: a remembered token past exp +
    leeway is KeyExpired, exactly when PyJWT would say so."""
    from datetime import timedelta

    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    options = {"hmac_only": False, "audience": settings.SIMPLE_JWT["AUDIENCE"],
               "issuer": settings.SIMPLE_JWT["ISSUER"], "leeway": timedelta(seconds=5)}
    exp = keys.verify(access, **options)["exp"]
    assert keys._verified_access.cache_info().currsize >= 1
    clock.advance(seconds=exp - time.time() + 4)  # inside the leeway: still good
    assert keys.verify(access, **options)["exp"] == exp
    clock.advance(seconds=2)  # past exp + leeway
    with pytest.raises(keys.KeyExpired):
        keys.verify(access, **options)
