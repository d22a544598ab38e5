"""Password storage at OWASP ASVS V2.4 / the Password Storage Cheat Sheet bar: Argon2id with
m >= 19 MiB, t >= 2, p = 1, and older hashes upgraded on the next successful login."""
from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher, make_password
from django.utils.module_loading import import_string

from config.settings import base as production
from tests.factories import PASSWORD, UserFactory

OWASP_MIN_MEMORY_KIB = 19456
OWASP_MIN_TIME_COST = 2


class _WeakArgon2(Argon2PasswordHasher):
    memory_cost, time_cost, parallelism = 1024, 1, 1


def _argon2_params(encoded: str) -> dict[str, int]:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
    _, variety, _, params, _, _ = encoded.split("$")
    assert variety == "argon2id"
    return {k: int(v) for k, v in (p.split("=") for p in params.split(","))}


def test_production_hashes_new_passwords_with_argon2id_first():
    hasher = import_string(production.PASSWORD_HASHERS[0])()

    assert hasher.algorithm == "argon2"
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert hasher.time_cost >= OWASP_MIN_TIME_COST
    assert hasher.parallelism == 1


def test_production_hash_string_shows_argon2id_with_owasp_parameters(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS

    encoded = make_password("a password nobody uses")

    assert encoded.startswith("argon2$argon2id$v=19$")
    params = _argon2_params(encoded)
    assert params["m"] >= OWASP_MIN_MEMORY_KIB
    assert params["t"] >= OWASP_MIN_TIME_COST
    assert params["p"] == 1


def test_production_hashers_no_longer_accept_unsalted_or_md5_hashes():
    names = [import_string(path).algorithm for path in production.PASSWORD_HASHERS]

    assert not {"md5", "unsalted_md5", "unsalted_sha1", "sha1", "crypt"} & set(names)


@pytest.mark.django_db
def test_pbkdf2_hash_is_upgraded_to_argon2id_on_login(settings, api_client):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = UserFactory(email="legacy@example.com")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = api_client.post("/api/auth/login/", {"email": "legacy@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert _argon2_params(user.password)["m"] >= OWASP_MIN_MEMORY_KIB
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_argon2_hash_with_weaker_parameters_is_rehashed_on_login(settings, api_client):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = UserFactory(email="weak@example.com")
    user.password = _WeakArgon2().encode(PASSWORD, _WeakArgon2().salt())
    user.save(update_fields=["password"])

    response = api_client.post("/api/auth/login/", {"email": "weak@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert _argon2_params(user.password) == {"m": 19456, "t": 2, "p": 1}


@pytest.mark.django_db
def test_failed_login_does_not_rewrite_a_legacy_hash(settings, api_client):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = UserFactory(email="legacy2@example.com")
    legacy = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.password = legacy
    user.save(update_fields=["password"])

    response = api_client.post("/api/auth/login/", {"email": "legacy2@example.com", "password": "wrong-guess-123"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    user.refresh_from_db()
    assert user.password == legacy
