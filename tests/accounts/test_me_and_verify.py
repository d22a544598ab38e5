"""GET /api/auth/me/ and POST /api/auth/verify/: what a token is worth right now."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tenants.models import Tenant
from apps.tenants.services import tenant_set_active
from tests.conftest import bearer
from tests.factories import UserFactory

ME = "/api/auth/me/"
VERIFY = "/api/auth/verify/"


def assert_401(response, code: str = "token_not_valid") -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_me_returns_the_user_object_exactly(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": "owner@acme.io",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role": "owner",
        "tenant": {"id": str(user.tenant.id), "slug": "acme", "name": "Acme", "enabled_modules": ["crm"]},
        "email_verified": False,
    }


def test_me_for_user_without_tenant_has_null_tenant_and_role(db):
    from apps.accounts.services import get_tokens_for_user

    loner = UserFactory(tenant=None, role="")
    response = bearer(get_tokens_for_user(loner)["access"]).get(ME)

    assert response.status_code == 200
    assert response.json()["tenant"] is None
    assert response.json()["role"] is None


def test_me_without_token_is_401_not_authenticated(api_client, db):
    assert_401(api_client.get(ME), "not_authenticated")


def test_me_with_garbage_token_is_401_token_not_valid(db):
    assert_401(bearer("garbage.not.a-token").get(ME))


def test_me_with_refresh_token_as_bearer_is_401(auth_client):
    assert_401(bearer(auth_client.tokens["refresh"]).get(ME))


def test_me_loads_user_and_tenant_in_one_query(auth_client):
    with CaptureQueriesContext(connection) as queries:
        response = auth_client.get(ME)

    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_verify_accepts_a_valid_access_token(api_client, tokens):
    response = api_client.post(VERIFY, {"token": tokens["access"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {}


def test_verify_accepts_a_valid_refresh_token(api_client, tokens):
    response = api_client.post(VERIFY, {"token": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {}


def test_verify_does_not_spend_the_refresh_token(api_client, tokens):
    api_client.post(VERIFY, {"token": tokens["refresh"]}, format="json")

    response = api_client.post("/api/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200


def test_verify_rejects_garbage(api_client, db):
    assert_401(api_client.post(VERIFY, {"token": "garbage"}, format="json"))


def test_verify_without_token_field_is_400_invalid(api_client, db):
    response = api_client.post(VERIFY, {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "token" in response.json()["errors"]


def test_verify_rejects_refresh_token_after_logout(api_client, auth_client):
    refresh = auth_client.tokens["refresh"]
    assert auth_client.post("/api/auth/logout/", {"refresh": refresh}, format="json").status_code in (200, 205)

    assert_401(api_client.post(VERIFY, {"token": refresh}, format="json"))


def test_access_token_of_user_deactivated_after_issue_is_rejected(api_client, auth_client, user):
    user.is_active = False
    user.save()

    assert_401(auth_client.get(ME))
    assert_401(api_client.post(VERIFY, {"token": auth_client.tokens["access"]}, format="json"))


def test_access_token_of_user_whose_tenant_was_deactivated_is_rejected(api_client, auth_client, tenant):
    tenant_set_active(tenant=tenant, active=False)

    assert_401(auth_client.get(ME))
    assert_401(api_client.post(VERIFY, {"token": auth_client.tokens["access"]}, format="json"))
    assert_401(api_client.post(VERIFY, {"token": auth_client.tokens["refresh"]}, format="json"))


def test_tenant_deactivated_behind_the_apps_back_still_rejects_tokens(auth_client, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)  # no signals, no service

    assert_401(auth_client.get(ME))


def test_access_token_of_deleted_user_is_rejected(auth_client, user):
    user.delete()

    assert_401(auth_client.get(ME))
