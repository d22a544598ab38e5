"""PATCH/DELETE /api/tenants/current/members/<user_id>/: roles change, removal bites at once,
the owner is untouchable, and another tenant's users do not exist."""
from __future__ import annotations

import uuid

import pytest

from apps.accounts.models import RefreshSession, Role, User
from apps.accounts.services import get_tokens_for_user
from apps.audit.models import SecurityEvent
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.support import bearer, client_for


def url(user_id) -> str:
    return f"/api/tenants/current/members/{user_id}/"


@pytest.fixture
def outsider(db):
    """A member of another tenant: never visible, never changeable from Acme."""
    return UserFactory(email="staff@globex.io", tenant=TenantFactory(name="Globex", slug="globex"), role=Role.MEMBER)


# --- role change ------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["user", "admin"])
def test_owner_or_admin_promotes_a_member_to_admin(request, member, admin, caller):
    response = client_for(request.getfixturevalue(caller)).patch(url(member.id), {"role": "admin"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(member.id)
    assert body["role"] == "admin"
    assert body["tenant"]["slug"] == "acme"
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_admin_demoted_to_member_loses_admin_rights_with_the_token_they_already_hold(user, admin):
    admin_client = client_for(admin)
    assert admin_client.get("/api/tenants/current/members/").status_code == 200

    response = client_for(user).patch(url(admin.id), {"role": "member"}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "member"
    denied = admin_client.get("/api/tenants/current/members/")
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
    # Not logged out: the role is read from the database on every request, not from the token.
    me = admin_client.get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json()["role"] == "member"


def test_role_change_is_recorded_as_a_security_event_of_the_member(user, member):
    client_for(user).patch(url(member.id), {"role": "admin"}, format="json")

    event = SecurityEvent.objects.get(type="member_role_changed")
    assert event.user_id == member.id
    assert event.tenant_id == member.tenant_id


@pytest.mark.parametrize("caller", ["user", "admin"])
def test_nobody_can_make_an_owner(request, member, admin, caller):
    response = client_for(request.getfixturevalue(caller)).patch(url(member.id), {"role": "owner"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    member.refresh_from_db()
    assert member.role == Role.MEMBER


@pytest.mark.parametrize("role", ["admin", "member"])
def test_the_owner_cannot_be_demoted(user, admin, role):
    response = client_for(admin).patch(url(user.id), {"role": role}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    user.refresh_from_db()
    assert user.role == Role.OWNER


def test_the_owner_cannot_change_their_own_role(user):
    response = client_for(user).patch(url(user.id), {"role": "admin"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("body", [{}, {"role": "boss"}, {"role": None}, {"role": ["admin"]}])
def test_role_change_with_a_bad_role_is_400_invalid(user, member, body):
    response = client_for(user).patch(url(member.id), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "role" in response.json()["errors"]


def test_member_cannot_change_roles(member, admin):
    response = client_for(member).patch(url(admin.id), {"role": "member"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


@pytest.mark.parametrize("target", ["outsider", "unknown", "garbage"])
def test_role_change_of_another_tenants_user_or_unknown_id_is_404(user, outsider, target):
    user_id = {"outsider": outsider.id, "unknown": uuid.uuid4(), "garbage": "not-a-uuid"}[target]

    response = client_for(user).patch(url(user_id), {"role": "admin"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    outsider.refresh_from_db()
    assert outsider.role == Role.MEMBER


def test_member_row_without_token_is_401(api_client, member):
    assert api_client.patch(url(member.id), {"role": "admin"}, format="json").status_code == 401
    assert api_client.delete(url(member.id)).status_code == 401


def test_user_without_tenant_gets_404_no_tenant(db, member):
    loner = UserFactory(tenant=None, role="")

    response = client_for(loner).delete(url(member.id))

    assert response.status_code == 404
    assert response.json()["code"] == "no_tenant"


# --- removal ----------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["user", "admin"])
def test_removal_detaches_the_user(request, member, admin, caller):
    response = client_for(request.getfixturevalue(caller)).delete(url(member.id))

    assert response.status_code == 204
    member.refresh_from_db()
    assert member.tenant_id is None
    assert member.role == ""
    listed = client_for(request.getfixturevalue(caller)).get("/api/tenants/current/members/").json()
    assert "member@acme.io" not in {u["email"] for u in listed}


def test_removed_users_access_and_refresh_tokens_die_at_once(api_client, user, member):
    first = get_tokens_for_user(member)
    second = get_tokens_for_user(member)

    assert client_for(user).delete(url(member.id)).status_code == 204

    for pair in (first, second):
        me = bearer(pair["access"]).get("/api/auth/me/")
        assert me.status_code == 401
        assert me.json()["code"] == "token_not_valid"
        refreshed = api_client.post("/api/auth/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401
        assert refreshed.json()["code"] == "token_not_valid"
        verify = api_client.post("/api/auth/verify/", {"token": pair["access"]}, format="json")
        assert verify.status_code == 401
    assert set(RefreshSession.objects.filter(user=member).values_list("revoked_reason", flat=True)) == {"member_removed"}


def test_removed_user_can_log_in_again_without_a_tenant(api_client, user, member):
    client_for(user).delete(url(member.id))

    response = api_client.post("/api/auth/login/", {"email": "member@acme.io", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["tenant"] is None
    assert response.json()["user"]["role"] is None
    me = bearer(response.json()["access"]).get("/api/tenants/current/")
    assert me.status_code == 404
    assert me.json()["code"] == "no_tenant"


def test_removal_is_recorded_under_the_tenant_the_user_left(user, member, tenant):
    client_for(user).delete(url(member.id))

    event = SecurityEvent.objects.get(type="member_removed")
    assert event.user_id == member.id
    assert event.tenant_id == tenant.id


def test_the_owner_cannot_be_removed(user, admin):
    response = client_for(admin).delete(url(user.id))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    user.refresh_from_db()
    assert user.tenant_id is not None and user.role == Role.OWNER


def test_member_cannot_remove_anyone(member, admin):
    response = client_for(member).delete(url(admin.id))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    admin.refresh_from_db()
    assert admin.tenant_id is not None


@pytest.mark.parametrize("target", ["outsider", "unknown", "garbage"])
def test_removal_of_another_tenants_user_or_unknown_id_is_404(user, outsider, target):
    user_id = {"outsider": outsider.id, "unknown": uuid.uuid4(), "garbage": "not-a-uuid"}[target]

    response = client_for(user).delete(url(user_id))

    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.tenant.slug == "globex"
    assert bearer(get_tokens_for_user(outsider)["access"]).get("/api/auth/me/").status_code == 200


def test_removing_twice_is_404_the_second_time(user, member):
    assert client_for(user).delete(url(member.id)).status_code == 204
    assert client_for(user).delete(url(member.id)).status_code == 404


def test_admin_can_leave_by_removing_themselves(admin):
    client = client_for(admin)

    assert client.delete(url(admin.id)).status_code == 204
    assert User.objects.get(pk=admin.pk).tenant_id is None
    assert client.get("/api/auth/me/").status_code == 401


def test_tenant_event_list_keeps_the_removed_members_history(user, member):
    client_for(user).patch(url(member.id), {"role": "admin"}, format="json")
    client_for(user).delete(url(member.id))

    response = client_for(user).get("/api/tenants/current/events/")

    assert response.status_code == 200
    mine = [(e["type"], e["user_id"]) for e in response.json()["results"] if e["user_id"] == str(member.id)]
    assert ("member_removed", str(member.id)) in mine
    assert ("member_role_changed", str(member.id)) in mine


# --- what an admin set up, and whose details a member sees (issue 23 item 8) -----------------
INVITATIONS = "/api/tenants/current/invitations/"
ACCEPT = "/api/tenants/invitations/accept/"


@pytest.mark.parametrize("how", ["removed", "demoted"])
def test_a_removed_or_demoted_admins_pending_invitations_no_longer_work(api_client, inbox, user, admin, how):
    sent = client_for(admin).post(INVITATIONS, {"email": "mole@example.org", "role": "admin"}, format="json")
    assert sent.status_code == 201, sent.content
    token = inbox.token_for("mole@example.org")

    owner = client_for(user)
    if how == "removed":
        assert owner.delete(url(admin.id)).status_code == 204
    else:
        assert owner.patch(url(admin.id), {"role": "member"}, format="json").status_code == 200

    refused = api_client.post(ACCEPT, {"token": token, "password": "Another-Horse-77!"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_token"
    assert not User.objects.filter(email="mole@example.org").exists()
    assert owner.get(INVITATIONS).json() == []


def test_a_role_change_or_removal_shows_the_member_the_actors_id_not_their_address(user, member):
    owner = client_for(user)
    device = {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "AdminBrowser/1.0"}
    assert owner.patch(url(member.id), {"role": "admin"}, format="json", **device).status_code == 200
    assert owner.delete(url(member.id), **device).status_code == 204

    member.refresh_from_db()
    mine = client_for(member).get("/api/auth/events/").json()["results"]  # a new login: removal ended the old
    acted = [e for e in mine if e["type"] in ("member_role_changed", "member_removed")]
    assert {e["type"] for e in acted} == {"member_role_changed", "member_removed"}
    for event in acted:
        assert event["ip"] is None and event["user_agent"] == ""
        assert event["detail"] == {"actor_id": str(user.id)}
