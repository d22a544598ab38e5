"""HasTenantModule("crm"): a feature is reachable only for tenants that have the module."""
from __future__ import annotations

import pytest
from django.db.models import JSONField, Value
from django.test import override_settings

from apps.tenants.models import Tenant
from tests.factories import TenantFactory, UserFactory
from tests.support import client_for

URL = "/api/crm/"

pytestmark = pytest.mark.usefixtures("module_urls")


@pytest.fixture
def module_urls():
    with override_settings(ROOT_URLCONF="tests.tenants.module_urls"):
        yield




def assert_module_disabled(response) -> None:
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "module_disabled"
    assert "crm" in body["detail"]


def test_tenant_with_the_module_gets_through(auth_client):
    response = auth_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"module": "crm", "tenant": "acme"}


def test_tenant_without_the_module_gets_403_module_disabled(db):
    user = UserFactory(tenant=TenantFactory(enabled_modules=["hr", "crm-lite"]))

    assert_module_disabled(client_for(user).get(URL))


def test_tenant_with_no_modules_gets_403_module_disabled(db):
    assert_module_disabled(client_for(UserFactory(tenant=TenantFactory(enabled_modules=[]))).get(URL))


def test_tenant_with_json_null_modules_gets_403_not_500(db):
    tenant = TenantFactory()
    Tenant.objects.filter(pk=tenant.pk).update(enabled_modules=Value(None, output_field=JSONField()))

    assert_module_disabled(client_for(UserFactory(tenant=tenant)).get(URL))


def test_user_without_tenant_gets_403_module_disabled(db):
    assert_module_disabled(client_for(UserFactory(tenant=None, role="")).get(URL))


def test_without_token_is_401_not_authenticated(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_module_disabled_after_token_issue_is_denied_at_once(auth_client, tenant):
    """The check reads the tenant as it is now, not the token's enabled_modules claim."""
    tenant.enabled_modules = []
    tenant.save()

    assert_module_disabled(auth_client.get(URL))


def test_module_enabled_after_token_issue_is_allowed_at_once(db):
    tenant = TenantFactory(enabled_modules=[])
    client = client_for(UserFactory(tenant=tenant))
    tenant.enabled_modules = ["crm"]
    tenant.save()

    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("url", ["/api/crm-only-module/", "/api/tenant-only/"])
def test_tenant_permissions_used_alone_still_answer_401_to_anonymous_callers(api_client, db, url):
    response = api_client.get(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_module_permission_used_alone_lets_a_crm_tenant_through(auth_client):
    assert auth_client.get("/api/crm-only-module/").status_code == 200
