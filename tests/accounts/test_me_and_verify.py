"""GET /api/auth/me/ and POST /api/auth/verify/: what a token is worth right now."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.tenants.models import Tenant
from apps.tenants.services import tenant_set_active
from tests.factories import UserFactory
from tests.support import assert_error, assert_rejected, bearer, url

ME = url("auth-me")




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
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_me_with_garbage_token_is_401_token_not_valid(db):
    assert_rejected(bearer("garbage.not.a-token").get(ME))


def test_me_with_refresh_token_as_bearer_is_401(auth_client):
    assert_rejected(bearer(auth_client.tokens["refresh"]).get(ME))


def test_me_loads_user_and_tenant_in_one_query(auth_client):
    with CaptureQueriesContext(connection) as queries:
        response = auth_client.get(ME)

    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_verify_accepts_a_valid_access_token(api, tokens):
    response = api.verify(tokens["access"])

    assert response.status_code == 200
    assert response.json() == {}


def test_verify_accepts_a_valid_refresh_token(api, tokens):
    response = api.verify(tokens["refresh"])

    assert response.status_code == 200
    assert response.json() == {}


def test_verify_does_not_spend_the_refresh_token(api, api_client, tokens):
    api.verify(tokens["refresh"])

    response = api_client.post("/api/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200


def test_verify_rejects_garbage(api, db):
    assert_rejected(api.verify("garbage"))


def test_verify_without_token_field_is_400_invalid(api_client, db):
    response = api_client.post(url("auth-verify"), {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "token" in response.json()["errors"]


def test_verify_rejects_refresh_token_after_logout(api, auth_client):
    refresh = auth_client.tokens["refresh"]
    assert auth_client.post("/api/auth/logout/", {"refresh": refresh}, format="json").status_code in (200, 205)

    assert_rejected(api.verify(refresh))


def test_access_token_of_user_deactivated_after_issue_is_rejected(api, auth_client, user):
    user.is_active = False
    user.save()

    assert_rejected(auth_client.get(ME))
    assert_rejected(api.verify(auth_client.tokens["access"]))


def test_access_token_of_user_whose_tenant_was_deactivated_is_rejected(api, auth_client, tenant):
    tenant_set_active(tenant=tenant, active=False)

    assert_rejected(auth_client.get(ME))
    assert_rejected(api.verify(auth_client.tokens["access"]))
    assert_rejected(api.verify(auth_client.tokens["refresh"]))


def test_tenant_deactivated_behind_the_apps_back_still_rejects_tokens(auth_client, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)  # no signals, no service

    assert_rejected(auth_client.get(ME))


def test_access_token_of_deleted_user_is_rejected(auth_client, user):
    user.delete()

    assert_rejected(auth_client.get(ME))
