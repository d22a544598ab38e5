"""Verified access tokens are remembered per process (apps/accounts/keys.py): the answers
must be exactly those of a fresh verification, whatever happened since the first one."""
from __future__ import annotations

from django.conf import settings

from apps.accounts import keys
from apps.accounts.services import get_tokens_for_user
from tests.conftest import bearer


def me(access: str):
    return bearer(access).get("/api/auth/me/")


def test_an_accepted_token_is_refused_once_it_expires_exactly_as_a_never_seen_one(user, clock):
    seen = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    unseen = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert me(seen).status_code == 200  # verified and remembered

    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + settings.SIMPLE_JWT["LEEWAY"]
    clock.advance(seconds=lifetime.total_seconds() - 30)
    assert me(seen).status_code == 200  # inside exp + leeway: still good
    clock.advance(seconds=31)
    expired_seen, expired_unseen = me(seen), me(unseen)
    assert expired_seen.status_code == 401
    assert expired_seen.json() == expired_unseen.json()
    assert expired_seen.json()["code"] == "token_not_valid"


def test_a_remembered_token_is_refused_when_its_key_is_no_longer_configured(user, settings):
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert me(access).status_code == 200
    settings.JWT_SECRET_KEY_FALLBACKS = []
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "a-brand-new-jwt-signing-key-" + "n" * 30}
    settings.JWT_SECRET_KEY = settings.SIMPLE_JWT["SIGNING_KEY"]
    response = me(access)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_remembered_token_does_not_vouch_for_an_altered_copy(user):
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert me(access).status_code == 200
    header, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for altered in (f"{header}.{payload}.{flipped}", f"{header}.{payload}.", f"{header}.{payload}.{signature}A"):
        response = me(altered)
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


def test_the_cache_is_bounded_and_holds_only_tokens_that_verified(user):
    keys._verified_access.cache_clear()
    access = get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")["access"]
    assert me("eyJhbGciOiJIUzI1NiJ9.e30.bm9wZQ").status_code == 401
    assert keys._verified_access.cache_info().currsize == 0  # a failure is never remembered
    assert me(access).status_code == 200
    assert me(access).status_code == 200
    info = keys._verified_access.cache_info()
    assert (info.currsize, info.hits, info.maxsize) == (1, 1, keys.VERIFIED_CACHE_SIZE)
