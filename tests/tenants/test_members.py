"""GET/POST /api/tenants/current/members/: owners and admins manage their own tenant's users."""
from __future__ import annotations

import pytest

from apps.accounts.models import Role, User
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.support import client_for

URL = "/api/tenants/current/members/"
USER_KEYS = {"id", "email", "first_name", "last_name", "role", "tenant", "email_verified"}




@pytest.fixture
def other_tenant_users(db):
    """A second tenant with users of every role: none of them may ever leak."""
    other = TenantFactory(name="Globex", slug="globex", enabled_modules=["hr"])
    return [
        UserFactory(email="boss@globex.io", tenant=other, role=Role.OWNER),
        UserFactory(email="admin@globex.io", tenant=other, role=Role.ADMIN),
        UserFactory(email="staff@globex.io", tenant=other, role=Role.MEMBER),
    ]


@pytest.mark.parametrize("caller", ["user", "admin"])
def test_owner_or_admin_lists_only_their_own_tenants_users(request, tenant, user, admin, member, other_tenant_users, caller):
    response = client_for(request.getfixturevalue(caller)).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert {u["email"] for u in body} == {"owner@acme.io", "admin@acme.io", "member@acme.io"}
    assert {u["email"]: u["role"] for u in body} == {
        "owner@acme.io": "owner", "admin@acme.io": "admin", "member@acme.io": "member",
    }
    for entry in body:
        assert set(entry) == USER_KEYS
        assert entry["tenant"] == {"id": str(tenant.id), "slug": "acme", "name": "Acme", "enabled_modules": ["crm"]}
    assert "globex" not in response.content.decode()


def test_members_list_has_no_secrets(auth_client, member):
    content = auth_client.get(URL).content.decode()

    assert "password" not in content
    assert member.password not in content


def test_post_creates_a_member_in_the_callers_tenant(api_client, auth_client, tenant):
    response = auth_client.post(
        URL, {"email": "New@Acme.io", "password": PASSWORD, "first_name": "Grace"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_KEYS
    assert body["email"] == "new@acme.io"
    assert body["first_name"] == "Grace" and body["last_name"] == ""
    assert body["role"] == "member"
    assert body["tenant"]["id"] == str(tenant.id)
    created = User.objects.get(pk=body["id"])
    assert created.tenant_id == tenant.id and created.role == Role.MEMBER
    login = api_client.post("/api/auth/login/", {"email": "new@acme.io", "password": PASSWORD}, format="json")
    assert login.status_code == 200
    assert login.json()["user"] == body


def test_post_with_role_admin_creates_an_admin(auth_client):
    response = auth_client.post(URL, {"email": "boss2@acme.io", "password": PASSWORD, "role": "admin"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["role"] == "admin"


def test_admin_can_add_members_too(admin, tenant):
    response = client_for(admin).post(URL, {"email": "hire@acme.io", "password": PASSWORD}, format="json")

    assert response.status_code == 201
    assert response.json()["tenant"]["id"] == str(tenant.id)


@pytest.mark.parametrize("role", ["owner", "superuser", "", None, 1])
def test_post_with_role_other_than_admin_or_member_is_rejected(auth_client, role):
    response = auth_client.post(URL, {"email": "x@acme.io", "password": PASSWORD, "role": role}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "role" in response.json()["errors"]
    assert not User.objects.filter(email="x@acme.io").exists()


@pytest.mark.parametrize("email", ["member@acme.io", "MEMBER@Acme.IO", "boss@globex.io", "Boss@Globex.io"])
def test_post_with_email_taken_in_any_case_or_tenant_is_rejected(auth_client, member, other_tenant_users, email):
    response = auth_client.post(URL, {"email": email, "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "email" in response.json()["errors"]
    # The other tenant's user is untouched.
    assert User.objects.get(email="boss@globex.io").tenant.slug == "globex"


def test_post_cannot_place_a_user_in_another_tenant(auth_client, tenant, other_tenant_users):
    other = other_tenant_users[0].tenant

    response = auth_client.post(
        URL, {"email": "mole@acme.io", "password": PASSWORD, "tenant": str(other.id), "tenant_id": str(other.id)},
        format="json",
    )

    assert response.status_code == 201
    assert User.objects.get(email="mole@acme.io").tenant_id == tenant.id


def test_post_with_weak_password_is_rejected(auth_client):
    response = auth_client.post(URL, {"email": "weak@acme.io", "password": "123"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "password" in response.json()["errors"]


def test_post_with_missing_fields_is_rejected(auth_client):
    response = auth_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"email", "password"}


def test_member_gets_403_permission_denied_on_list_and_create(member):
    client = client_for(member)

    listing = client.get(URL)
    creating = client.post(URL, {"email": "sneaky@acme.io", "password": PASSWORD}, format="json")

    for response in (listing, creating):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert not User.objects.filter(email="sneaky@acme.io").exists()


def test_user_without_tenant_gets_404_no_tenant(db):
    client = client_for(UserFactory(tenant=None, role=""))

    assert client.get(URL).json()["code"] == "no_tenant"
    response = client.post(URL, {"email": "x@acme.io", "password": PASSWORD}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "no_tenant"


def test_members_without_token_is_401(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_user_never_sees_another_tenants_data_anywhere(other_tenant_users, auth_client, user):
    other_owner = client_for(other_tenant_users[0])
    urls = ["/api/auth/me/", "/api/tenants/current/", URL, "/api/auth/sessions/"]

    mine = "".join(auth_client.get(url).content.decode() for url in urls)
    theirs = "".join(other_owner.get(url).content.decode() for url in urls)

    assert "globex" not in mine.lower() and str(other_tenant_users[0].tenant_id) not in mine
    assert "acme" not in theirs.lower() and str(user.tenant_id) not in theirs
    assert str(user.id) not in theirs
