"""POST /api/auth/login/: tokens for the right password, one indistinguishable 401 otherwise."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher

from apps.accounts.models import User
from config.settings import base as base_settings
from tests.factories import PASSWORD, TenantFactory, UserFactory

URL = "/api/auth/login/"


class CountingHasher(MD5PasswordHasher):
    """The fast test hasher, counting password checks (verify) and hash computations (encode,
    which verify also runs once)."""

    algorithm = "counting_md5"
    verify_calls = 0
    hash_computations = 0

    def verify(self, password, encoded):
        CountingHasher.verify_calls += 1
        return super().verify(password, encoded)

    def encode(self, password, salt):
        CountingHasher.hash_computations += 1
        return super().encode(password, salt)

    @classmethod
    def reset(cls) -> None:
        cls.verify_calls = cls.hash_computations = 0


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher", *settings.PASSWORD_HASHERS]
    CountingHasher.reset()
    return CountingHasher


def post_login(api_client, email, password=PASSWORD, **extra):
    return api_client.post(URL, {"email": email, "password": password}, format="json", **extra)


def read_log_lines(request_id: str) -> list[str]:
    """The info.log lines written while handling the request with this X-Request-ID."""
    path = Path(django_settings.LOG_DIR) / "info.log"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if request_id in line]


def test_login_returns_user_and_token_pair(api_client, user):
    response = post_login(api_client, "owner@acme.io")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["email"] == "owner@acme.io"
    assert body["user"]["role"] == "owner"
    assert body["user"]["tenant"] == {
        "id": str(user.tenant.id), "slug": "acme", "name": "Acme", "enabled_modules": ["crm"],
    }
    assert body["access"] and body["refresh"] and body["access"] != body["refresh"]


@pytest.mark.parametrize("email", ["OWNER@ACME.IO", "Owner@Acme.io", "  owner@acme.io "])
def test_login_accepts_email_in_any_case(api_client, user, email):
    response = post_login(api_client, email)

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == str(user.id)


def test_wrong_email_and_wrong_password_give_the_identical_401(api_client, user):
    wrong_email = post_login(api_client, "nobody@acme.io")
    wrong_password = post_login(api_client, "owner@acme.io", "Not-The-Password-1")

    assert wrong_email.status_code == wrong_password.status_code == 401
    assert wrong_email.json() == wrong_password.json()
    assert wrong_email.json()["code"] == "invalid_credentials"
    assert set(wrong_email.json()) == {"detail", "code"}


def test_unknown_email_costs_the_same_hash_checks_as_wrong_password(api_client, db, counting_hasher):
    UserFactory(email="known@example.com")
    counting_hasher.reset()

    assert post_login(api_client, "known@example.com", "Not-The-Password-1").status_code == 401
    wrong_password_checks = counting_hasher.verify_calls
    counting_hasher.reset()
    assert post_login(api_client, "unknown@example.com", "Not-The-Password-1").status_code == 401
    unknown_email_checks = counting_hasher.verify_calls

    assert wrong_password_checks >= 1
    assert unknown_email_checks == wrong_password_checks


def test_unknown_email_checks_against_a_hash_of_the_current_default_hasher(api_client, db, counting_hasher):
    """Switching the default hasher must not leave the unknown-email path on the old one."""
    assert post_login(api_client, "unknown@example.com", "Not-The-Password-1").status_code == 401

    assert counting_hasher.verify_calls == 1


def test_every_failing_login_computes_exactly_one_hash(api_client, db, counting_hasher):
    """Unknown email, wrong password, inactive account or tenant, unusable password: the
    same hashing work each, so the response time does not tell them apart."""
    UserFactory(email="known@example.com")
    UserFactory(email="inactive@example.com", is_active=False)
    UserFactory(email="dormant@example.com", tenant=TenantFactory(is_active=False))
    unusable = UserFactory(email="unusable@example.com")
    unusable.set_unusable_password()
    unusable.save(update_fields=["password"])
    post_login(api_client, "warm-up@example.com", "x")  # the unknown-email path's hash is made once
    emails = [
        "nobody@example.com", "known@example.com", "inactive@example.com", "dormant@example.com",
        "unusable@example.com",
    ]

    for email in emails:
        counting_hasher.reset()
        response = post_login(api_client, email, "Not-The-Password-1")
        assert response.status_code == 401, email
        assert response.json()["code"] == "invalid_credentials"
        assert counting_hasher.hash_computations == 1, email


def test_inactive_user_with_right_password_gets_403_account_inactive(api_client, db):
    UserFactory(email="gone@example.com", is_active=False)

    response = post_login(api_client, "gone@example.com")

    assert response.status_code == 403
    assert response.json()["code"] == "account_inactive"


def test_inactive_user_with_wrong_password_gets_401_invalid_credentials(api_client, db):
    UserFactory(email="gone@example.com", is_active=False)

    response = post_login(api_client, "gone@example.com", "Not-The-Password-1")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_user_of_deactivated_tenant_gets_403_tenant_inactive(api_client, db):
    UserFactory(email="member@example.com", tenant=TenantFactory(is_active=False))

    response = post_login(api_client, "member@example.com")

    assert response.status_code == 403
    assert response.json()["code"] == "tenant_inactive"


def test_user_of_deactivated_tenant_with_wrong_password_gets_401(api_client, db):
    UserFactory(email="member@example.com", tenant=TenantFactory(is_active=False))

    response = post_login(api_client, "member@example.com", "Not-The-Password-1")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_login_rehashes_a_pbkdf2_password_to_argon2(api_client, db, settings):
    settings.PASSWORD_HASHERS = list(base_settings.PASSWORD_HASHERS)
    user = UserFactory(email="old@example.com")
    # A legacy hash, with few iterations so the test stays fast (must_update still says yes).
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "legacysalt", iterations=1000)
    user.save(update_fields=["password"])

    response = post_login(api_client, "old@example.com")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)
    assert post_login(api_client, "old@example.com").status_code == 200


def test_missing_or_malformed_fields_give_400_invalid(api_client, db):
    for body in ({}, {"email": "x@example.com"}, {"password": PASSWORD}, {"email": ["x"], "password": PASSWORD}):
        response = api_client.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"


def test_json_array_body_gives_400_not_500(api_client, db):
    response = api_client.post(URL, [{"email": "x@example.com", "password": PASSWORD}], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_login_log_lines_carry_client_ip_and_never_the_password(api_client, db):
    UserFactory(email="logged@example.com")
    wrong = "Wrong-Horse-Battery-77"
    ok_id, bad_id = f"login-ok-{uuid.uuid4().hex}", f"login-bad-{uuid.uuid4().hex}"

    post_login(api_client, "logged@example.com", REMOTE_ADDR="198.51.100.23", HTTP_X_REQUEST_ID=ok_id)
    post_login(api_client, "logged@example.com", wrong, REMOTE_ADDR="198.51.100.23", HTTP_X_REQUEST_ID=bad_id)

    ok_lines, bad_lines = read_log_lines(ok_id), read_log_lines(bad_id)
    assert any("198.51.100.23" in line and "Login succeeded" in line for line in ok_lines), ok_lines
    assert any("198.51.100.23" in line and "invalid_credentials" in line for line in bad_lines), bad_lines
    everything = "".join(p.read_text(encoding="utf-8") for p in Path(django_settings.LOG_DIR).glob("*.log*"))
    assert PASSWORD not in everything
    assert wrong not in everything


def test_logged_client_ip_is_the_hop_before_the_trusted_proxy(api_client, db, settings):
    settings.NUM_PROXIES = 1
    UserFactory(email="proxied@example.com")
    rid = f"login-proxy-{uuid.uuid4().hex}"

    response = post_login(
        api_client, "proxied@example.com", REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", HTTP_X_REQUEST_ID=rid,
    )

    assert response.status_code == 200
    lines = [line for line in read_log_lines(rid) if "Login" in line]
    assert lines and all("203.0.113.9" in line for line in lines), lines
    assert not any("6.6.6.6" in line for line in read_log_lines(rid))


def test_forwarded_header_is_ignored_without_trusted_proxies(api_client, db, settings):
    settings.NUM_PROXIES = 0
    UserFactory(email="direct@example.com")
    rid = f"login-direct-{uuid.uuid4().hex}"

    response = post_login(
        api_client, "direct@example.com", REMOTE_ADDR="192.0.2.44",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", HTTP_X_REQUEST_ID=rid,
    )

    assert response.status_code == 200
    lines = read_log_lines(rid)
    assert any("Login succeeded" in line and "192.0.2.44" in line for line in lines), lines
    assert not any("6.6.6.6" in line or "203.0.113.9" in line for line in lines)


def test_login_opens_a_new_session_each_time(api_client, user):
    first = post_login(api_client, "owner@acme.io").json()
    second = post_login(api_client, "owner@acme.io").json()

    assert first["refresh"] != second["refresh"]
    assert User.objects.get(pk=user.pk).refresh_sessions.count() == 2
