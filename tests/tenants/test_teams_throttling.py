"""Throttles of the team endpoints: accept per client, invitations per inviter (429 throttled)."""
from __future__ import annotations

from tests.accounts.test_throttling import assert_throttled, mid_window, rates  # noqa: F401 (fixtures)
from tests.tenants.conftest import client_for

INVITATIONS = "/api/tenants/current/invitations/"
ACCEPT = "/api/tenants/invitations/accept/"


def test_invitations_are_limited_per_inviter_not_per_tenant(rates, inbox, user, admin):  # noqa: F811
    rates(invitation_send="2/hour")
    owner = client_for(user)

    for n in range(2):
        assert owner.post(INVITATIONS, {"email": f"hire{n}@example.org"}, format="json").status_code == 201

    assert_throttled(owner.post(INVITATIONS, {"email": "hire2@example.org"}, format="json"))
    assert client_for(admin).post(INVITATIONS, {"email": "hire3@example.org"}, format="json").status_code == 201
    assert owner.get(INVITATIONS).status_code == 200  # listing is not limited
    assert len(inbox.messages()) == 3


def test_accept_is_limited_per_client(rates, api_client, db):  # noqa: F811
    rates(invitation_accept="3/hour")

    for _ in range(3):
        response = api_client.post(ACCEPT, {"token": "x" * 43, "password": "Another-Horse-77!"}, format="json")
        assert response.json()["code"] == "invalid_token"

    assert_throttled(api_client.post(ACCEPT, {"token": "x" * 43, "password": "Another-Horse-77!"}, format="json"))
