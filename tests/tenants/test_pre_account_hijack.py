"""Pre-account hijack (issue 23 item 3): someone registers the victim's address, creates a
tenant, adds their own admin and invites a friend. When the victim proves the mailbox (a
completed password reset, or the first verification), that setup ends: the admin is detached
with every token dead, the invitation no longer works, each is an event, and the victim is told
by email. Through HTTP, with mail handed to a real SMTP server."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

import devprocs as services
from apps.accounts.models import User
from apps.audit.models import SecurityEvent
from apps.tenants.services.takeover import SUBJECT
from tests.conftest import bearer
from tests.factories import PASSWORD

VICTIM = "victim@example.com"
MOLE = "mole@evil.example"
FRIEND = "friend@evil.example"
NEW_PASSWORD = "Victims-Own-Passphrase-5"


@pytest.fixture(autouse=True)
def _links(settings):
    settings.PASSWORD_RESET_URL = "https://app.example.com/reset?uid={uid}&token={token}"
    settings.EMAIL_VERIFY_URL = "https://app.example.com/verify?token={token}"
    settings.INVITE_ACCEPT_URL = "https://app.example.com/join?token={token}"


def link_query(server, to: str, prefix: str) -> dict:
    """The query of the last link starting with `prefix` mailed to `to`."""
    found = []
    for message in server.received():
        if message["To"] == to:
            found += [ln for ln in services.message_text(message).splitlines() if ln.startswith(prefix)]
    return {k: v[0] for k, v in parse_qs(urlsplit(found[-1]).query).items()}


@pytest.fixture
def hijacked(db, api_client, smtp, deliver):
    """The attacker's setup under the victim's unverified address: a tenant, an admin with a
    live session, a pending invitation."""
    registered = api_client.post(
        "/api/auth/register/", {"email": VICTIM, "password": PASSWORD, "tenant_name": "Victim Co"}, format="json",
    )
    assert registered.status_code == 201, registered.content
    attacker = bearer(registered.json()["access"])
    added = attacker.post(
        "/api/tenants/current/members/", {"email": MOLE, "password": PASSWORD, "role": "admin"}, format="json",
    )
    assert added.status_code == 201, added.content
    assert attacker.post("/api/tenants/current/invitations/", {"email": FRIEND}, format="json").status_code == 201
    mole = api_client.post("/api/auth/login/", {"email": MOLE, "password": PASSWORD}, format="json").json()
    deliver()
    return {"mole": mole, "invite_token": link_query(smtp, FRIEND, "https://app.example.com/join?")["token"]}


def assert_setup_ended(api_client, smtp, deliver, hijacked) -> None:
    mole = hijacked["mole"]
    assert bearer(mole["access"]).get("/api/auth/me/").json()["code"] == "token_not_valid"
    refreshed = api_client.post("/api/auth/refresh/", {"refresh": mole["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert User.objects.get(email=MOLE).tenant_id is None
    accept = api_client.post(
        "/api/tenants/invitations/accept/", {"token": hijacked["invite_token"], "password": PASSWORD}, format="json",
    )
    assert accept.status_code == 400 and accept.json()["code"] == "invalid_token"
    victim = User.objects.get(email=VICTIM)
    assert victim.email_verified and victim.tenant_role == "owner"
    mole_user = User.objects.get(email=MOLE)
    assert SecurityEvent.objects.filter(
        user_id=mole_user.pk, type="member_removed", detail={"actor_id": str(victim.pk)},
    ).count() == 1
    assert SecurityEvent.objects.filter(user_id=victim.pk, type="invitation_revoked").count() == 1
    deliver()
    [notice] = [m for m in smtp.received() if m["Subject"] == SUBJECT]
    assert notice["To"] == VICTIM
    text = services.message_text(notice)
    assert MOLE in text and FRIEND in text


def test_a_completed_reset_of_a_never_verified_account_ends_what_its_holder_set_up(
    api_client, smtp, deliver, hijacked,
):
    assert api_client.post("/api/auth/password/reset/", {"email": VICTIM}, format="json").status_code == 202
    deliver()
    query = link_query(smtp, VICTIM, "https://app.example.com/reset?")

    confirmed = api_client.post(
        "/api/auth/password/reset/confirm/", {**query, "new_password": NEW_PASSWORD}, format="json",
    )
    assert confirmed.status_code == 200, confirmed.content

    assert_setup_ended(api_client, smtp, deliver, hijacked)


def test_the_first_verification_ends_what_the_unproven_holder_set_up(api_client, smtp, deliver, hijacked):
    token = link_query(smtp, VICTIM, "https://app.example.com/verify?")["token"]

    assert api_client.post("/api/auth/email/verify/", {"token": token}, format="json").status_code == 200

    assert_setup_ended(api_client, smtp, deliver, hijacked)


def test_a_reset_of_an_already_verified_owner_keeps_their_team(api_client, smtp, deliver, hijacked):
    User.objects.filter(email=VICTIM).update(email_verified=True)
    api_client.post("/api/auth/password/reset/", {"email": VICTIM}, format="json")
    deliver()
    query = link_query(smtp, VICTIM, "https://app.example.com/reset?")

    assert api_client.post(
        "/api/auth/password/reset/confirm/", {**query, "new_password": NEW_PASSWORD}, format="json",
    ).status_code == 200

    assert User.objects.get(email=MOLE).tenant_id is not None
    assert bearer(hijacked["mole"]["access"]).get("/api/auth/me/").status_code == 200
