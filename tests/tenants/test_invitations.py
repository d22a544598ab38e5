"""Invitations by email: invite, list, delete, accept (new or existing account), with every
refusal of the contract's "Teams" section. Emails go through a real SMTP server."""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import jwt
import pytest

from apps.accounts.models import Role, User
from apps.audit.models import SecurityEvent
from apps.tenants.models import Invitation, Tenant
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.support import assert_error, bearer, client_for

INVITATIONS = "/api/tenants/current/invitations/"
ACCEPT = "/api/tenants/invitations/accept/"
INVITATION_KEYS = {"id", "email", "role", "created_at", "expires_at", "invited_by"}
NEW_PASSWORD = "Another-Horse-77!"


def invite(client, email: str, role: str | None = None):
    body = {"email": email} if role is None else {"email": email, "role": role}
    return client.post(INVITATIONS, body, format="json")


def accept(client, token: str, **fields):
    return client.post(ACCEPT, {"token": token, **fields}, format="json")




@pytest.fixture
def owner_client(user):
    return client_for(user)


@pytest.fixture
def globex(db):
    """A second tenant with its own owner: it must never see Acme's rows, nor Acme its."""
    tenant = TenantFactory(name="Globex", slug="globex")
    return tenant, UserFactory(email="boss@globex.io", tenant=tenant, role=Role.OWNER)


# --- invite -----------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["user", "admin"])
def test_owner_or_admin_invites_by_email_and_the_link_arrives_by_smtp(request, inbox, caller):
    inviter = request.getfixturevalue(caller)

    response = invite(client_for(inviter), "New.Person@Example.org", "admin")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == INVITATION_KEYS
    assert body["email"] == "new.person@example.org"
    assert body["role"] == "admin"
    assert body["invited_by"] == str(inviter.id)
    created, expires = datetime.fromisoformat(body["created_at"]), datetime.fromisoformat(body["expires_at"])
    assert expires - created == timedelta(seconds=604800)
    [message] = inbox.messages()
    assert message["To"] == "new.person@example.org"
    assert message["From"] == "team@authsvc.test"
    assert "Acme" in message["Subject"]
    token = inbox.token_for("new.person@example.org")
    assert len(token) >= 40
    # Only the SHA-256 of the token is stored.
    row = Invitation.objects.get(pk=body["id"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=row.pk).values().get())


def test_role_defaults_to_member(owner_client, inbox):
    response = invite(owner_client, "new@example.org")

    assert response.status_code == 201
    assert response.json()["role"] == "member"


def test_invitation_ttl_is_configurable(owner_client, inbox, settings):
    settings.INVITATION_TTL_SECONDS = 3600

    body = invite(owner_client, "new@example.org").json()

    assert datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"]) == timedelta(hours=1)


def test_invitation_sent_is_a_security_event_of_the_inviter(owner_client, inbox, user):
    invite(owner_client, "new@example.org")

    event = SecurityEvent.objects.get(type="invitation_sent")
    assert (event.user_id, event.tenant_id) == (user.id, user.tenant_id)


def test_nobody_can_invite_an_owner(owner_client, inbox):
    response = invite(owner_client, "new@example.org", "owner")

    assert_error(response, 403, "permission_denied")
    assert not Invitation.objects.exists()
    assert inbox.messages() == []


@pytest.mark.parametrize("body", [{"email": "not-an-email"}, {}, {"email": "a@b.io", "role": "boss"}, {"email": ["a@b.io"]}])
def test_invite_with_bad_input_is_400_invalid(owner_client, inbox, body):
    response = owner_client.post(INVITATIONS, body, format="json")

    assert_error(response, 400, "invalid")
    assert response.json()["errors"]
    assert inbox.messages() == []


@pytest.mark.parametrize("email", ["member@acme.io", "MEMBER@acme.io", "boss@globex.io", "owner@acme.io"])
def test_inviting_an_email_that_has_an_account_in_a_tenant_is_400_invalid(owner_client, inbox, member, globex, email):
    response = invite(owner_client, email)

    body = assert_error(response, 400, "invalid")
    assert "email" in body["errors"]
    assert inbox.messages() == []


def test_inviting_an_existing_account_without_a_tenant_is_allowed(owner_client, inbox):
    UserFactory(email="loner@example.org", tenant=None, role="")

    assert invite(owner_client, "loner@example.org").status_code == 201


def test_inviting_an_address_with_a_pending_invitation_to_this_tenant_is_400_invalid(owner_client, inbox):
    assert invite(owner_client, "new@example.org").status_code == 201

    response = invite(owner_client, "NEW@example.org", "admin")

    assert "email" in assert_error(response, 400, "invalid")["errors"]
    assert len(inbox.messages()) == 1


def test_another_tenant_may_invite_the_same_address(owner_client, inbox, globex):
    assert invite(owner_client, "new@example.org").status_code == 201

    assert invite(client_for(globex[1]), "new@example.org").status_code == 201


def test_an_address_can_be_invited_again_after_its_invitation_was_deleted_or_expired(owner_client, inbox, api_client, clock, user):
    first = invite(owner_client, "new@example.org").json()
    assert owner_client.delete(f"{INVITATIONS}{first['id']}/").status_code == 204
    assert invite(owner_client, "new@example.org").status_code == 201
    expired_token = inbox.token_for("new@example.org")

    clock.advance(seconds=604801)

    assert invite(client_for(user), "new@example.org").status_code == 201  # a fresh login
    assert_error(accept(api_client, expired_token, password=NEW_PASSWORD), 400, "invalid_token")
    assert accept(api_client, inbox.token_for("new@example.org"), password=NEW_PASSWORD).status_code == 201


def test_member_cannot_invite_list_or_delete(member, inbox, owner_client):
    pending = invite(owner_client, "new@example.org").json()
    client = client_for(member)

    assert_error(invite(client, "x@example.org"), 403, "permission_denied")
    assert_error(client.get(INVITATIONS), 403, "permission_denied")
    assert_error(client.delete(f"{INVITATIONS}{pending['id']}/"), 403, "permission_denied")
    assert Invitation.objects.get(pk=pending["id"]).revoked_at is None


def test_invitations_without_a_token_are_401_and_without_a_tenant_404(api_client, db):
    assert_error(api_client.get(INVITATIONS), 401, "not_authenticated")
    assert_error(invite(api_client, "x@example.org"), 401, "not_authenticated")
    loner = client_for(UserFactory(tenant=None, role=""))
    assert_error(loner.get(INVITATIONS), 404, "no_tenant")
    assert_error(invite(loner, "x@example.org"), 404, "no_tenant")


# --- list and delete --------------------------------------------------------------------------
def test_list_shows_only_pending_invitations_of_the_callers_tenant(user, inbox, globex, clock, admin, api_client):
    invite(client_for(globex[1]), "globex-hire@example.org")
    expired = invite(client_for(user), "expired@example.org").json()
    clock.advance(seconds=604801)
    owner_client = client_for(user)  # a fresh login: a week has passed
    pending = invite(owner_client, "pending@example.org", "admin").json()
    deleted = invite(owner_client, "deleted@example.org").json()
    owner_client.delete(f"{INVITATIONS}{deleted['id']}/")
    invite(owner_client, "accepted@example.org")
    assert accept(api_client, inbox.token_for("accepted@example.org"), password=NEW_PASSWORD).status_code == 201

    response = client_for(admin).get(INVITATIONS)

    assert response.status_code == 200
    assert response.json() == [pending]
    assert expired["id"] not in response.content.decode()
    assert "globex" not in response.content.decode()


def test_deleted_invitation_link_no_longer_works(owner_client, inbox, api_client):
    pending = invite(owner_client, "new@example.org").json()
    token = inbox.token_for("new@example.org")

    assert owner_client.delete(f"{INVITATIONS}{pending['id']}/").status_code == 204

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid_token")
    assert not User.objects.filter(email="new@example.org").exists()
    assert owner_client.get(INVITATIONS).json() == []
    assert_error(owner_client.delete(f"{INVITATIONS}{pending['id']}/"), 404, "not_found")


def test_invitation_deleted_from_the_database_no_longer_works(owner_client, inbox, api_client):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")

    Invitation.objects.all().delete()

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid_token")


@pytest.mark.parametrize("which", ["other-tenant", "unknown", "garbage"])
def test_deleting_another_tenants_or_an_unknown_invitation_is_404(owner_client, inbox, globex, which):
    theirs = invite(client_for(globex[1]), "hire@example.org").json()
    invitation_id = {"other-tenant": theirs["id"], "unknown": uuid.uuid4(), "garbage": "nope"}[which]

    assert_error(owner_client.delete(f"{INVITATIONS}{invitation_id}/"), 404, "not_found")
    assert Invitation.objects.get(pk=theirs["id"]).revoked_at is None


def test_two_tenants_never_see_each_others_invitations_or_members(inbox, user, globex, api_client):
    boss = client_for(globex[1])
    acme = client_for(user)
    invite(acme, "acme-hire@example.org", "admin")
    invite(boss, "globex-hire@example.org")
    accept(api_client, inbox.token_for("acme-hire@example.org"), password=NEW_PASSWORD)
    accept(api_client, inbox.token_for("globex-hire@example.org"), password=NEW_PASSWORD)
    invite(acme, "acme-later@example.org")
    invite(boss, "globex-later@example.org")

    for client, mine, theirs in [(acme, "acme", "globex"), (boss, "globex", "acme")]:
        invitations = client.get(INVITATIONS).content.decode()
        members = client.get("/api/tenants/current/members/").json()
        assert f"{mine}-later@example.org" in invitations and theirs not in invitations
        assert f"{mine}-hire@example.org" in {m["email"] for m in members}
        assert all(m["tenant"]["slug"] == ("acme" if mine == "acme" else "globex") for m in members)
        assert not any(theirs in m["email"] for m in members)
    globex_hire = User.objects.get(email="globex-hire@example.org")
    assert_error(acme.patch(f"/api/tenants/current/members/{globex_hire.id}/", {"role": "admin"}, format="json"), 404, "not_found")
    assert_error(acme.delete(f"/api/tenants/current/members/{globex_hire.id}/"), 404, "not_found")


# --- accept: new account ----------------------------------------------------------------------
def test_accept_creates_the_account_in_the_tenant_with_the_invited_role(owner_client, inbox, api_client, tenant):
    invite(owner_client, "new@example.org", "admin")

    response = accept(api_client, inbox.token_for("new@example.org"), password=NEW_PASSWORD, first_name="Grace", last_name="Hopper")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert body["user"]["email"] == "new@example.org"
    assert body["user"]["role"] == "admin"
    assert body["user"]["email_verified"] is True
    assert (body["user"]["first_name"], body["user"]["last_name"]) == ("Grace", "Hopper")
    assert body["user"]["tenant"] == {"id": str(tenant.id), "slug": "acme", "name": "Acme", "enabled_modules": ["crm"]}
    claims = jwt.decode(body["access"], options={"verify_signature": False})
    assert (claims["tenant_id"], claims["tenant_slug"], claims["enabled_modules"]) == (str(tenant.id), "acme", ["crm"])
    assert claims["email_verified"] is True
    assert User.objects.get(email="new@example.org").email_verified
    assert bearer(body["access"]).get("/api/tenants/current/members/").status_code == 200  # admin rights
    login = api_client.post("/api/auth/login/", {"email": "new@example.org", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200
    assert api_client.post("/api/auth/refresh/", {"refresh": body["refresh"]}, format="json").status_code == 200


def test_accept_is_recorded_and_the_invitation_is_used_up(owner_client, inbox, api_client):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")
    user_id = accept(api_client, token, password=NEW_PASSWORD).json()["user"]["id"]

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid_token")
    event = SecurityEvent.objects.get(type="invitation_accepted")
    assert str(event.user_id) == user_id
    row = Invitation.objects.get()
    assert row.accepted_at is not None and str(row.accepted_by_id) == user_id


def test_expired_invitation_is_400_invalid_token(owner_client, inbox, api_client, clock):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")

    clock.advance(seconds=604800 + 1)

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid_token")
    assert not User.objects.filter(email="new@example.org").exists()


def test_invitation_still_works_just_before_it_expires(owner_client, inbox, api_client, clock):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")

    clock.advance(seconds=604800 - 30)

    assert accept(api_client, token, password=NEW_PASSWORD).status_code == 201


@pytest.mark.parametrize("token", ["", "x" * 43, "y" * 5000, "../../etc", "\u2603"])
def test_unknown_or_malformed_token_is_400_invalid_token(api_client, db, token):
    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid_token")


@pytest.mark.parametrize("body", [{}, {"token": None}, {"token": 123}, {"token": ["a"]}])
def test_accept_without_a_token_string_is_400_invalid(api_client, db, body):
    assert_error(api_client.post(ACCEPT, body, format="json"), 400, "invalid")


@pytest.mark.parametrize("password", [None, "", "short", "password"])
def test_weak_or_missing_password_is_400_invalid_and_leaves_the_link_usable(owner_client, inbox, api_client, password):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")
    fields = {} if password is None else {"password": password}

    response = accept(api_client, token, **fields)

    assert "password" in assert_error(response, 400, "invalid")["errors"]
    assert not User.objects.filter(email="new@example.org").exists()
    assert accept(api_client, token, password=NEW_PASSWORD).status_code == 201


def test_accepting_for_an_email_that_has_an_account_without_logging_in_is_400_invalid(owner_client, inbox, api_client):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")
    api_client.post("/api/auth/register/", {"email": "New@example.org", "password": PASSWORD}, format="json")

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 400, "invalid")
    assert User.objects.get(email="new@example.org").tenant_id is None
    assert Invitation.objects.get().accepted_at is None


def test_accept_for_a_deactivated_tenant_is_refused(owner_client, inbox, api_client, tenant):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)

    assert_error(accept(api_client, token, password=NEW_PASSWORD), 403, "tenant_inactive")
    assert not User.objects.filter(email="new@example.org").exists()


# --- accept: existing account -----------------------------------------------------------------
@pytest.fixture
def loner(db):
    return UserFactory(email="loner@example.org", tenant=None, role="")


def test_existing_account_without_tenant_accepts_with_its_bearer_token(owner_client, inbox, loner, tenant):
    invite(owner_client, "loner@example.org", "admin")
    client = client_for(loner)

    response = accept(client, inbox.token_for("loner@example.org"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(loner.id)
    assert body["role"] == "admin"
    assert body["email_verified"] is True
    assert body["tenant"]["id"] == str(tenant.id)
    assert client.get("/api/tenants/current/").json()["slug"] == "acme"  # the same token now sees it
    assert SecurityEvent.objects.get(type="invitation_accepted").tenant_id == tenant.id
    assert_error(accept(client, inbox.token_for("loner@example.org")), 400, "invalid_token")


def test_existing_account_accepting_someone_elses_invitation_is_400_invalid(owner_client, inbox, loner):
    UserFactory(email="other@example.org", tenant=None, role="")
    invite(owner_client, "other@example.org")

    response = accept(client_for(loner), inbox.token_for("other@example.org"))

    assert_error(response, 400, "invalid")
    assert User.objects.get(pk=loner.pk).tenant_id is None


def test_account_already_in_a_tenant_cannot_accept_409(owner_client, inbox, api_client, globex):
    invite(owner_client, "new@example.org")
    invite(client_for(globex[1]), "new@example.org")
    acme_token, globex_token = inbox.tokens_for("new@example.org")
    joined = accept(api_client, acme_token, password=NEW_PASSWORD).json()

    response = accept(bearer(joined["access"]), globex_token)

    assert_error(response, 409, "already_in_tenant")
    assert User.objects.get(email="new@example.org").tenant.slug == "acme"
    assert Invitation.objects.get(tenant=globex[0]).accepted_at is None


def test_accept_with_a_bad_bearer_token_is_401(owner_client, inbox, loner):
    invite(owner_client, "loner@example.org")

    response = accept(bearer("not-a-jwt"), inbox.token_for("loner@example.org"), password=NEW_PASSWORD)

    assert_error(response, 401, "token_not_valid")
    assert Invitation.objects.get().accepted_at is None


def test_accept_answers_without_leaking_the_token_in_logs(owner_client, inbox, api_client, caplog):
    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")

    accept(api_client, token, password=NEW_PASSWORD)

    assert token not in caplog.text
    assert token not in str(list(SecurityEvent.objects.values()))


def test_defaults_of_the_accept_url_and_ttl():
    from config.settings import base

    assert base.INVITE_ACCEPT_URL == "http://localhost:3000/accept-invite?token={token}"
    assert base.INVITATION_TTL_SECONDS == 604800


# --- accept: cookie transport (as register) ---------------------------------------------------
def test_accept_in_cookie_transport_puts_the_refresh_token_in_the_cookie(owner_client, inbox):
    from tests.accounts.test_cookie_transport import COOKIE, Browser

    invite(owner_client, "new@example.org")
    browser = Browser()

    response = browser.post(ACCEPT, {"token": inbox.token_for("new@example.org"), "password": NEW_PASSWORD}, bearer_token=False)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access"}
    assert body["user"]["role"] == "member" and body["user"]["email_verified"] is True
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/api/auth/" and int(cookie["max-age"]) > 0
    assert cookie.value
    refreshed = browser.refresh(data={})
    assert refreshed.status_code == 200, refreshed.content
    assert set(refreshed.json()) == {"access"}


def test_accept_in_cookie_transport_without_csrf_is_403_and_uses_nothing_up(owner_client, inbox):
    from tests.accounts.test_cookie_transport import Browser

    invite(owner_client, "new@example.org")
    token = inbox.token_for("new@example.org")
    browser = Browser()
    browser.fetch_csrf()

    response = browser.post(ACCEPT, {"token": token, "password": NEW_PASSWORD}, csrf=False, bearer_token=False)

    assert_error(response, 403, "csrf_failed")
    assert not User.objects.filter(email="new@example.org").exists()
    assert browser.post(ACCEPT, {"token": token, "password": NEW_PASSWORD}, bearer_token=False).status_code == 201


def test_with_mandatory_verification_an_invited_account_needs_no_verification_email(owner_client, inbox, api_client, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    invite(owner_client, "new@example.org")

    response = accept(api_client, inbox.token_for("new@example.org"), password=NEW_PASSWORD)

    assert response.status_code == 201
    assert {"user", "access", "refresh"} <= set(response.json())
    login = api_client.post("/api/auth/login/", {"email": "new@example.org", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200, login.content
    assert [m["To"] for m in inbox.messages()] == ["new@example.org"]  # the invitation only


def test_account_in_a_tenant_presenting_anyone_elses_invitation_is_409(owner_client, inbox, globex):
    invite(owner_client, "new@example.org")

    response = accept(client_for(globex[1]), inbox.token_for("new@example.org"))

    assert_error(response, 409, "already_in_tenant")
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.parametrize("name", [
    "Pay now at https://evil.example/login",
    "evil.example",
    "www．evil．example",  # fullwidth dots
    "evil\u00ad.example",  # a soft hyphen hiding the dot
    "mailto:boss@evil.example",
])
def test_a_url_in_the_tenant_name_reaches_the_invitation_mail_as_inert_text(inbox, user, tenant, name):
    import devprocs

    tenant.name = name
    tenant.save(update_fields=["name"])

    assert invite(client_for(user), "new.person@example.org").status_code == 201

    [message] = inbox.messages()
    text = message["Subject"] + "\n" + devprocs.message_text(message)
    assert "evil[.]example" in text
    assert "evil.example" not in text and "https://evil" not in text and "mailto:" not in text
    assert len(inbox.tokens_for("new.person@example.org")) == 1  # our link is still there, intact
