"""GET/PATCH /api/tenants/current/: the caller's own tenant; owners and admins edit it."""
from __future__ import annotations

import jwt
import pytest
from django.conf import settings as django_settings
from django.db.models import JSONField, Value

from apps.accounts.models import Role
from apps.tenants.models import Tenant
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.support import bearer, client_for

URL = "/api/tenants/current/"




def test_get_current_returns_the_callers_tenant(auth_client, tenant):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"id": str(tenant.id), "slug": "acme", "name": "Acme", "enabled_modules": ["crm"]}


def test_get_current_for_user_without_tenant_is_404_no_tenant(db):
    response = client_for(UserFactory(tenant=None, role="")).get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "no_tenant"


def test_get_current_without_token_is_401(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_member_can_read_but_sees_only_their_own_tenant(db, tenant):
    TenantFactory(name="Other", slug="other", enabled_modules=["hr"])
    member = UserFactory(tenant=tenant, role=Role.MEMBER)

    response = client_for(member).get(URL)

    assert response.status_code == 200
    assert response.json()["slug"] == "acme"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_or_admin_can_rename_and_set_modules(db, tenant, role):
    editor = UserFactory(tenant=tenant, role=role)

    response = client_for(editor).patch(URL, {"name": "Acme Ltd", "enabled_modules": ["crm", "billing"]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(tenant.id), "slug": "acme", "name": "Acme Ltd", "enabled_modules": ["crm", "billing"],
    }
    tenant.refresh_from_db()
    assert tenant.name == "Acme Ltd"
    assert tenant.enabled_modules == ["crm", "billing"]


def test_patch_of_one_field_leaves_the_other(auth_client, tenant):
    response = auth_client.patch(URL, {"enabled_modules": []}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Acme"
    assert response.json()["enabled_modules"] == []


def test_patch_cannot_change_slug_or_activation(auth_client, tenant):
    response = auth_client.patch(URL, {"slug": "hijack", "is_active": False, "id": "x"}, format="json")

    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.slug == "acme" and tenant.is_active


def test_next_login_token_carries_the_new_modules(auth_client, login):
    auth_client.patch(URL, {"enabled_modules": ["hr", "crm"]}, format="json")

    body = login("owner@acme.io", PASSWORD)

    claims = jwt.decode(
        body["access"], django_settings.JWT_SECRET_KEY, algorithms=["HS256"],
        audience=django_settings.JWT_AUDIENCE, issuer=django_settings.JWT_ISSUER,
    )
    assert claims["enabled_modules"] == ["hr", "crm"]
    assert body["user"]["tenant"]["enabled_modules"] == ["hr", "crm"]


def test_member_cannot_patch(db, tenant):
    member = UserFactory(tenant=tenant, role=Role.MEMBER)

    response = client_for(member).patch(URL, {"name": "Mine now"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


def test_user_without_tenant_cannot_patch(db):
    response = client_for(UserFactory(tenant=None, role="")).patch(URL, {"name": "X"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "no_tenant"


@pytest.mark.parametrize(
    "modules",
    [
        pytest.param("crm", id="string-not-list"),
        pytest.param({"crm": True}, id="object"),
        pytest.param(None, id="null"),
        pytest.param([1, 2], id="numbers"),
        pytest.param([["crm"]], id="nested-list"),
        pytest.param([None], id="null-item"),
        pytest.param(["CRM"], id="uppercase"),
        pytest.param(["crm module"], id="space"),
        pytest.param([""], id="empty-name"),
        pytest.param(["x" * 51], id="too-long"),
        pytest.param([f"m{i}" for i in range(51)], id="too-many"),
    ],
)
def test_invalid_enabled_modules_are_rejected_with_400(auth_client, tenant, modules):
    response = auth_client.patch(URL, {"enabled_modules": modules}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "enabled_modules" in body["errors"]
    tenant.refresh_from_db()
    assert tenant.enabled_modules == ["crm"]


@pytest.mark.parametrize("name", ["", "   ", None, "n" * 151])
def test_invalid_name_is_rejected_with_400(auth_client, tenant, name):
    response = auth_client.patch(URL, {"name": name}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "name" in response.json()["errors"]


def test_duplicate_modules_are_stored_once(auth_client):
    response = auth_client.patch(URL, {"enabled_modules": ["crm", "hr", "crm"]}, format="json")

    assert response.status_code == 200
    assert response.json()["enabled_modules"] == ["crm", "hr"]


def test_non_object_body_is_400_not_500(auth_client):
    response = auth_client.patch(URL, ["crm"], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_enabled_modules_is_a_list_even_when_json_null_is_stored(api_client, db):
    """A JSON null survives NOT NULL; every reader must still show a list."""
    tenant = TenantFactory(slug="legacy")
    Tenant.objects.filter(pk=tenant.pk).update(enabled_modules=Value(None, output_field=JSONField()))
    UserFactory(email="legacy@example.com", tenant=tenant)

    response = api_client.post("/api/auth/login/", {"email": "legacy@example.com", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["user"]["tenant"]["enabled_modules"] == []
    client = bearer(response.json()["access"])
    assert client.get(URL).json()["enabled_modules"] == []
    assert client.get("/api/auth/me/").json()["tenant"]["enabled_modules"] == []
