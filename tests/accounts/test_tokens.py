"""The JWTs themselves: claims per contract, signed with JWT_SECRET_KEY, never logged."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings as django_settings

from apps.accounts.services import get_tokens_for_user
from apps.tenants.models import Tenant
from tests.factories import TenantFactory, UserFactory
from tests.support import bearer

ACCESS_CLAIMS = {
    "token_type", "exp", "iat", "jti", "user_id", "email", "email_verified", "tenant_id", "tenant_slug",
    "enabled_modules", "iss", "aud",
}
REFRESH_CLAIMS = {"token_type", "exp", "iat", "jti", "user_id", "iss", "aud", "sid"}
# Beyond the contract's list, an access token names the session that minted it, so
# /sessions/ can mark the current one and password change knows which session to keep.
ACCESS_EXTRA_CLAIMS = {"sid"}


def decode(token: str) -> dict:
    return jwt.decode(
        token, django_settings.JWT_SECRET_KEY, algorithms=["HS256"],
        audience=django_settings.JWT_AUDIENCE, issuer=django_settings.JWT_ISSUER,
    )


def test_access_token_carries_exactly_the_contract_claims(user):
    access = decode(get_tokens_for_user(user)["access"])

    assert set(access) == ACCESS_CLAIMS | ACCESS_EXTRA_CLAIMS
    assert access["token_type"] == "access"
    assert access["user_id"] == str(user.id) and uuid.UUID(access["user_id"])
    assert access["email"] == "owner@acme.io"
    assert access["tenant_id"] == str(user.tenant.id)
    assert access["tenant_slug"] == "acme"
    assert access["enabled_modules"] == ["crm"]
    assert access["iss"] == django_settings.JWT_ISSUER
    assert access["aud"] == django_settings.JWT_AUDIENCE
    assert isinstance(access["jti"], str) and access["jti"]
    lifetime = django_settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert access["exp"] - access["iat"] == lifetime


def test_refresh_token_carries_exactly_the_contract_claims(user):
    refresh = decode(get_tokens_for_user(user)["refresh"])

    assert set(refresh) == REFRESH_CLAIMS
    assert refresh["token_type"] == "refresh"
    assert refresh["user_id"] == str(user.id)
    assert refresh["iss"] == django_settings.JWT_ISSUER
    assert refresh["aud"] == django_settings.JWT_AUDIENCE
    assert user.refresh_sessions.filter(pk=refresh["sid"]).exists()
    assert refresh["exp"] - refresh["iat"] == django_settings.REFRESH_TOKEN_LIFETIME_DAYS * 86400


def test_each_pair_has_fresh_token_ids(user):
    first, second = get_tokens_for_user(user), get_tokens_for_user(user)

    jtis = {decode(t)["jti"] for t in (first["access"], first["refresh"], second["access"], second["refresh"])}
    assert len(jtis) == 4
    assert decode(first["refresh"])["sid"] != decode(second["refresh"])["sid"]


def test_tokens_for_user_without_tenant_have_null_tenant_claims(db):
    loner = UserFactory(tenant=None, role="")

    access = decode(get_tokens_for_user(loner)["access"])

    assert access["tenant_id"] is None
    assert access["tenant_slug"] is None
    assert access["enabled_modules"] == []


def test_tokens_for_tenant_with_none_modules_on_the_instance_have_empty_list(user):
    user.tenant.enabled_modules = None

    tokens = get_tokens_for_user(user)

    assert decode(tokens["access"])["enabled_modules"] == []
    assert decode(tokens["access"])["tenant_slug"] == "acme"


def test_tokens_for_tenant_loaded_without_modules_field_never_raise(user):
    user.tenant = Tenant.objects.only("id", "slug", "is_active").get(pk=user.tenant_id)

    access = decode(get_tokens_for_user(user)["access"])

    assert access["enabled_modules"] == ["crm"]
    assert access["tenant_id"] == str(user.tenant_id)


def test_tokens_for_tenant_whose_modules_attribute_is_gone_never_raise(user):
    del user.tenant.__dict__["enabled_modules"]  # deferred: loaded on access

    access = decode(get_tokens_for_user(user)["access"])

    assert access["enabled_modules"] == ["crm"]


def test_tokens_for_user_of_deactivated_tenant_are_issued_without_raising(db):
    member = UserFactory(tenant=TenantFactory(slug="dormant", is_active=False, enabled_modules=["crm", "hr"]))

    access = decode(get_tokens_for_user(member)["access"])

    assert access["tenant_slug"] == "dormant"
    assert access["enabled_modules"] == ["crm", "hr"]


def test_tokens_are_signed_with_jwt_secret_key_not_secret_key(user):
    tokens = get_tokens_for_user(user)

    for token in tokens.values():
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        decode(token)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(
                token, django_settings.SECRET_KEY, algorithms=["HS256"],
                audience=django_settings.JWT_AUDIENCE, issuer=django_settings.JWT_ISSUER,
            )


def test_token_signed_with_secret_key_is_rejected(user):
    claims = decode(get_tokens_for_user(user)["access"])
    forged = jwt.encode(claims, django_settings.SECRET_KEY, algorithm="HS256")

    response = bearer(forged).get("/api/auth/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("claim", ["aud", "iss"])
def test_token_with_wrong_audience_or_issuer_is_rejected(user, claim):
    claims = decode(get_tokens_for_user(user)["access"])
    claims[claim] = "someone-else"
    forged = jwt.encode(claims, django_settings.JWT_SECRET_KEY, algorithm="HS256")

    response = bearer(forged).get("/api/auth/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_token_generation_logs_start_and_success_with_user_id(user, caplog):
    with caplog.at_level(logging.INFO, logger="apps.accounts"):
        get_tokens_for_user(user)

    messages = [r.getMessage() for r in caplog.records if r.name == "apps.accounts.services.sessions"]
    assert any("Generating tokens" in m and str(user.id) in m for m in messages), messages
    assert any("Tokens generated" in m and str(user.id) in m for m in messages), messages
    info_log = (Path(django_settings.LOG_DIR) / "info.log").read_text(encoding="utf-8")
    assert f"Generating tokens for user {user.id}" in info_log
    assert f"Tokens generated for user {user.id}" in info_log


def test_token_generation_never_logs_a_token_or_its_signature(user, caplog):
    with caplog.at_level(logging.DEBUG):
        tokens = get_tokens_for_user(user)

    secrets = [
        *tokens.values(),
        *(t.rsplit(".", 1)[1] for t in tokens.values()),  # signatures
        *(t.split(".")[1] for t in tokens.values()),  # payloads
    ]
    # What the code hands to logging, before any redacting filter ...
    raw = "\n".join(r.getMessage() for r in caplog.records)
    # ... and what reached the files.
    files = "".join(p.read_text(encoding="utf-8") for p in Path(django_settings.LOG_DIR).glob("*.log*"))
    for secret in secrets:
        assert secret not in raw
        assert secret not in files
