"""POST /api/auth/register/: 201 {user, access, refresh}; every bad input a JSON 400."""
from __future__ import annotations

import pytest

from apps.accounts.models import Role, User
from apps.tenants.models import Tenant
from tests.factories import PASSWORD, UserFactory
from tests.support import url

URL = url("auth-register")
USER_KEYS = {"id", "email", "first_name", "last_name", "role", "tenant", "email_verified"}
TENANT_KEYS = {"id", "slug", "name", "enabled_modules"}




def assert_invalid(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert isinstance(body["detail"], str) and body["detail"]
    assert field in body["errors"]
    assert all(isinstance(m, str) for m in body["errors"][field])


def test_register_with_tenant_name_creates_tenant_owned_by_new_user(api, db):
    response = api.register(email="Ada@Example.com", tenant_name="Acme Inc", first_name="Ada")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    user = body["user"]
    assert set(user) == USER_KEYS
    assert user["email"] == "ada@example.com"
    assert user["first_name"] == "Ada" and user["last_name"] == ""
    assert user["role"] == "owner"
    assert set(user["tenant"]) == TENANT_KEYS
    assert user["tenant"]["name"] == "Acme Inc"
    assert user["tenant"]["slug"] == "acme-inc"
    assert user["tenant"]["enabled_modules"] == []
    stored = User.objects.select_related("tenant").get(pk=user["id"])
    assert stored.role == Role.OWNER
    assert str(stored.tenant.id) == user["tenant"]["id"]


def test_register_without_tenant_name_gives_user_without_tenant_or_role(api, db):
    response = api.register(email="solo@example.com")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert body["user"]["tenant"] is None
    assert body["user"]["role"] is None
    assert Tenant.objects.count() == 0


def test_registered_tokens_work_for_me(api, api_client, db):
    body = api.register(email="me@example.com", tenant_name="Acme").json()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    response = api_client.get("/api/auth/me/")

    assert response.status_code == 200
    assert response.json() == body["user"]


def test_second_tenant_with_same_name_gets_a_different_slug(api, db):
    first = api.register(email="one@example.com", tenant_name="Acme").json()["user"]["tenant"]
    second = api.register(email="two@example.com", tenant_name="Acme").json()["user"]["tenant"]

    assert first["slug"] == "acme"
    assert second["slug"].startswith("acme-") and second["slug"] != first["slug"]
    assert first["id"] != second["id"]
    assert second["name"] == "Acme"


def test_tenant_name_without_sluggable_characters_still_gets_a_slug(api, db):
    response = api.register(email="sym@example.com", tenant_name="!!!")

    assert response.status_code == 201, response.content
    assert response.json()["user"]["tenant"]["slug"]


@pytest.mark.parametrize("email", ["A@x.io", "a@x.io", " a@X.IO "])
def test_email_taken_in_any_case_is_rejected(api, db, email):
    UserFactory(email="a@x.io")

    response = api.register(email=email)

    assert_invalid(response, "email")
    assert User.objects.count() == 1


def test_rejected_registration_creates_no_tenant(api, db):
    UserFactory(email="a@x.io", tenant=None, role="")

    response = api.register(email="A@x.io", tenant_name="Ghost")

    assert_invalid(response, "email")
    assert not Tenant.objects.filter(name="Ghost").exists()


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("short1!", id="too-short"),
        pytest.param("password123", id="common"),
        pytest.param("8675309184726", id="numeric"),
        pytest.param("marguerite.example", id="too-similar-to-email"),
    ],
)
def test_weak_password_is_rejected_with_password_errors(api_client, db, password):
    response = api_client.post(
        URL, {"email": "marguerite@example.com", "password": password}, format="json"
    )

    assert_invalid(response, "password")
    assert not User.objects.exists()


def test_password_too_similar_to_first_name_is_rejected(api_client, db):
    response = api_client.post(
        URL,
        {"email": "x@example.com", "first_name": "Bartholomew", "password": "Bartholomew1"},
        format="json",
    )

    assert_invalid(response, "password")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"password": PASSWORD}, "email", id="missing-email"),
        pytest.param({"email": "x@example.com"}, "password", id="missing-password"),
        pytest.param({"email": "not-an-email", "password": PASSWORD}, "email", id="invalid-email"),
        pytest.param({"email": "", "password": PASSWORD}, "email", id="blank-email"),
        pytest.param({"email": ["x@example.com"], "password": PASSWORD}, "email", id="email-list"),
        pytest.param({"email": "x@example.com", "password": PASSWORD, "tenant_name": ""}, "tenant_name", id="blank-tenant"),
        pytest.param({"email": "x@example.com", "password": "p" * 129}, "password", id="password-too-long"),
    ],
)
def test_bad_fields_give_400_with_field_errors(api_client, db, body, field):
    response = api_client.post(URL, body, format="json")

    assert_invalid(response, field)


def test_non_json_body_gives_json_400(api_client, db):
    response = api_client.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"detail", "code"}
    assert isinstance(body["code"], str) and body["code"]


def test_json_array_body_gives_json_400(api_client, db):
    response = api_client.post(URL, [{"email": "x@example.com", "password": PASSWORD}], format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert isinstance(body["detail"], str)
    assert not User.objects.exists()


def test_empty_body_gives_json_400(api_client, db):
    response = api_client.post(URL, data="", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
