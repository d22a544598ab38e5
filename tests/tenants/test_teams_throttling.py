"""Throttles of the team endpoints: accept per client, invitations per inviter (429 throttled)."""
from __future__ import annotations

import pytest

from tests.support import assert_throttled, client_for

INVITATIONS = "/api/tenants/current/invitations/"
ACCEPT = "/api/tenants/invitations/accept/"

pytestmark = pytest.mark.usefixtures("mid_window")


def test_invitations_are_limited_per_inviter_not_per_tenant(rates, inbox, user, admin):
    rates(invitation_send="2/hour")
    owner = client_for(user)

    for n in range(2):
        assert owner.post(INVITATIONS, {"email": f"hire{n}@example.org"}, format="json").status_code == 201

    assert_throttled(owner.post(INVITATIONS, {"email": "hire2@example.org"}, format="json"))
    assert client_for(admin).post(INVITATIONS, {"email": "hire3@example.org"}, format="json").status_code == 201
    assert owner.get(INVITATIONS).status_code == 200  # listing is not limited
    assert len(inbox.messages()) == 3


def test_accept_is_limited_per_client(rates, api_client, db):
    rates(invitation_accept="3/hour")

    for _ in range(3):
        response = api_client.post(ACCEPT, {"token": "x" * 43, "password": "Another-Horse-77!"}, format="json")
        assert response.json()["code"] == "invalid_token"

    assert_throttled(api_client.post(ACCEPT, {"token": "x" * 43, "password": "Another-Horse-77!"}, format="json"))


def test_invitations_are_limited_per_tenant_whoever_sends_them(rates, inbox, user, admin):
    rates(invitation_send_tenant="2/hour")
    assert client_for(user).post(INVITATIONS, {"email": "a@example.org"}, format="json").status_code == 201
    assert client_for(admin).post(INVITATIONS, {"email": "b@example.org"}, format="json").status_code == 201

    assert_throttled(client_for(admin).post(INVITATIONS, {"email": "c@example.org"}, format="json"))
    assert len(inbox.messages()) == 2


def test_an_inviter_whose_address_is_not_verified_is_limited_tighter(rates, inbox, user, admin):
    rates(invitation_send_unverified="1/hour")
    admin.email_verified = True
    admin.save(update_fields=["email_verified"])
    unverified, verified = client_for(user), client_for(admin)

    assert unverified.post(INVITATIONS, {"email": "a@example.org"}, format="json").status_code == 201
    assert_throttled(unverified.post(INVITATIONS, {"email": "b@example.org"}, format="json"))
    for n in range(3):
        assert verified.post(INVITATIONS, {"email": f"v{n}@example.org"}, format="json").status_code == 201
