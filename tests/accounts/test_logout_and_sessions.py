"""Ending sessions: logout, logout-all, /sessions/, password change, deactivation, deletion,
and bounded storage (contract rules 3 and 6)."""
from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from apps.accounts.models import RefreshSession
from apps.accounts.services import get_tokens_for_user
from tests.factories import PASSWORD, UserFactory
from tests.support import assert_rejected, bearer, sid

SESSION_KEYS = {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}
NEW_PASSWORD = "Another-Horse-77?"




def new_session(user, user_agent: str = "pytest") -> dict:
    return get_tokens_for_user(user, ip="127.0.0.1", user_agent=user_agent)










def change_password(access: str, old: str = PASSWORD, new: str = NEW_PASSWORD):
    body = {"old_password": old, "new_password": new}
    return bearer(access).post("/api/auth/password/change/", body, format="json")


@pytest.fixture
def frozen():
    """Time stands still (mid-second): everything in the test happens in the same second."""
    with time_machine.travel(datetime.now(tz=UTC).replace(microsecond=400_000), tick=False):
        yield


# --- logout -----------------------------------------------------------------------------------
def test_logout_revokes_only_that_session(api, user):
    phone, laptop = new_session(user), new_session(user)

    response = api.logout(phone["access"], phone["refresh"])

    assert response.status_code == 205, response.content
    assert_rejected(api.refresh(phone["refresh"]))
    assert api.refresh(laptop["refresh"]).status_code == 200


def test_access_token_stays_valid_after_a_single_session_logout(api, auth_client, tokens):
    assert api.logout(tokens["access"], tokens["refresh"]).status_code == 205

    assert api.me(tokens["access"]).status_code == 200


def test_logout_with_someone_elses_refresh_token_is_rejected_and_leaves_it_alive(api, user, tokens):
    other = new_session(UserFactory(email="other@example.com"))

    assert_rejected(api.logout(tokens["access"], other["refresh"]))

    assert api.refresh(other["refresh"]).status_code == 200


def test_logout_twice_with_the_same_token_is_harmless(api, tokens):
    assert api.logout(tokens["access"], tokens["refresh"]).status_code == 205

    assert api.logout(tokens["access"], tokens["refresh"]).status_code in (205, 401)
    assert_rejected(api.refresh(tokens["refresh"]))


def test_logout_needs_an_access_token(api, api_client, tokens):
    response = api_client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert api.refresh(tokens["refresh"]).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refresh": None}, {"refresh": ["x"]}], ids=["empty", "null", "list"])
def test_malformed_logout_body_is_a_json_400(auth_client, body):
    response = auth_client.post("/api/auth/logout/", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_logout_with_an_access_token_in_place_of_the_refresh_token_is_rejected(api, tokens):
    assert_rejected(api.logout(tokens["access"], tokens["access"]))
    assert api.refresh(tokens["refresh"]).status_code == 200


# --- logout-all -------------------------------------------------------------------------------
def test_logout_all_revokes_every_session_and_every_earlier_access_token(api, user, frozen):
    sessions = [new_session(user, f"device-{n}") for n in range(3)]
    just_minted = new_session(user, "same second")  # minted in the very second of logout-all

    response = api.logout_all(sessions[0]["access"])

    assert response.status_code == 200, response.content
    for pair in [*sessions, just_minted]:
        assert_rejected(api.refresh(pair["refresh"]))
        assert_rejected(api.me(pair["access"]))


def test_login_right_after_logout_all_works_immediately(api, user, tokens, login, frozen):
    assert api.logout_all(tokens["access"]).status_code == 200

    fresh = login(user.email)

    assert api.me(fresh["access"]).status_code == 200
    assert api.refresh(fresh["refresh"]).status_code == 200
    assert_rejected(api.me(tokens["access"]))


def test_second_logout_all_in_the_same_second_revokes_tokens_minted_since_the_first(api, user, tokens, login, frozen):
    assert api.logout_all(tokens["access"]).status_code == 200
    between = login(user.email)

    assert api.logout_all(between["access"]).status_code == 200

    assert_rejected(api.me(between["access"]))
    assert_rejected(api.refresh(between["refresh"]))
    after = login(user.email)
    assert api.me(after["access"]).status_code == 200


def test_logout_all_leaves_other_users_alone(api, user, tokens):
    other = new_session(UserFactory(email="other@example.com"))

    assert api.logout_all(tokens["access"]).status_code == 200

    assert api.me(other["access"]).status_code == 200
    assert api.refresh(other["refresh"]).status_code == 200


# --- /sessions/ -------------------------------------------------------------------------------
def test_sessions_lists_active_sessions_with_exactly_one_current(api, user):
    phone = new_session(user, "Phone/1.0")
    laptop = new_session(user, "Laptop/2.0")
    revoked = new_session(user, "Gone/0.1")
    api.logout(revoked["access"], revoked["refresh"])

    response = bearer(laptop["access"]).get("/api/auth/sessions/")

    assert response.status_code == 200, response.content
    listed = response.json()
    assert isinstance(listed, list)
    assert all(set(item) == SESSION_KEYS for item in listed)
    assert {item["id"] for item in listed} == {sid(phone["refresh"]), sid(laptop["refresh"])}
    assert [item["id"] for item in listed if item["current"]] == [sid(laptop["refresh"])]
    by_agent = {item["user_agent"]: item for item in listed}
    assert set(by_agent) == {"Phone/1.0", "Laptop/2.0"}
    assert all(item["ip"] == "127.0.0.1" and item["created_at"] and item["last_used_at"] for item in listed)


def test_sessions_list_is_not_paginated(user):
    pairs = [new_session(user, f"device-{n}") for n in range(30)]

    listed = bearer(pairs[0]["access"]).get("/api/auth/sessions/").json()

    assert isinstance(listed, list) and len(listed) == 30


def test_sessions_list_leaves_out_expired_sessions(user, clock):
    new_session(user, "Old/1.0")
    clock.advance(days=8)  # its only refresh token has expired
    current = new_session(user, "New/1.0")

    listed = bearer(current["access"]).get("/api/auth/sessions/").json()

    assert [item["user_agent"] for item in listed] == ["New/1.0"]


def test_sessions_list_shows_the_latest_use_of_a_session(api, user, clock):
    pair = new_session(user)
    clock.advance(seconds=120)
    pair = api.refresh(pair["refresh"]).json()
    access = pair["access"]

    (item,) = bearer(access).get("/api/auth/sessions/").json()

    assert item["last_used_at"] > item["created_at"]


def test_deleting_a_session_revokes_it(api, user):
    mine, other_device = new_session(user, "Mine"), new_session(user, "Other")

    response = bearer(mine["access"]).delete(f"/api/auth/sessions/{sid(other_device['refresh'])}/")

    assert response.status_code == 204
    assert_rejected(api.refresh(other_device["refresh"]))
    listed = bearer(mine["access"]).get("/api/auth/sessions/").json()
    assert [item["user_agent"] for item in listed] == ["Mine"]
    assert api.refresh(mine["refresh"]).status_code == 200


def test_deleting_another_users_session_is_404_and_leaves_it_alive(api, tokens):
    other = new_session(UserFactory(email="other@example.com"))

    response = bearer(tokens["access"]).delete(f"/api/auth/sessions/{sid(other['refresh'])}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.refresh(other["refresh"]).status_code == 200


@pytest.mark.parametrize("session_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%20"])
def test_deleting_a_session_that_does_not_exist_is_404(tokens, session_id):
    response = bearer(tokens["access"]).delete(f"/api/auth/sessions/{session_id}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_deleting_an_already_revoked_session_is_404(api, tokens, user):
    gone = new_session(user)
    api.logout(gone["access"], gone["refresh"])

    response = bearer(tokens["access"]).delete(f"/api/auth/sessions/{sid(gone['refresh'])}/")

    assert response.status_code == 404


def test_sessions_need_an_access_token(api, api_client, tokens):
    assert api_client.get("/api/auth/sessions/").status_code == 401
    response = api_client.delete(f"/api/auth/sessions/{sid(tokens['refresh'])}/")
    assert response.status_code == 401
    assert api.refresh(tokens["refresh"]).status_code == 200


# --- password change --------------------------------------------------------------------------
def test_password_change_with_wrong_old_password_is_400_and_changes_nothing(api, user, tokens, login):
    response = change_password(tokens["access"], old="Wrong-Password-1!")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "old_password" in response.json()["errors"]
    assert api.me(tokens["access"]).status_code == 200
    assert login(user.email, PASSWORD)


@pytest.mark.parametrize("weak", ["short1!", "password123", "12345678901", "owner@acme.io"])
def test_password_change_to_a_weak_password_is_400_on_new_password(api, user, tokens, login, weak):
    response = change_password(tokens["access"], new=weak)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"new_password"}
    assert body["errors"]["new_password"] and all(isinstance(m, str) for m in body["errors"]["new_password"])
    assert api.refresh(tokens["refresh"]).status_code == 200
    assert login(user.email, PASSWORD)


def test_password_change_revokes_every_other_session_and_every_earlier_access_token(api, user, frozen):
    mine, other = new_session(user, "Mine"), new_session(user, "Other")

    response = change_password(mine["access"])

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert_rejected(api.refresh(other["refresh"]))
    assert_rejected(api.me(other["access"]))
    assert_rejected(api.me(mine["access"]))
    assert api.me(pair["access"]).status_code == 200


def test_password_change_returns_a_working_pair_for_the_same_session(api, user, tokens, login):
    pair = change_password(tokens["access"]).json()

    assert sid(pair["refresh"]) == sid(tokens["refresh"])
    listed = bearer(pair["access"]).get("/api/auth/sessions/").json()
    assert [item["current"] for item in listed] == [True]
    assert api.refresh(pair["refresh"]).status_code == 200
    assert login(user.email, NEW_PASSWORD)


def test_password_change_spends_the_callers_previous_refresh_token(api, tokens):
    assert change_password(tokens["access"]).status_code == 200

    assert_rejected(api.refresh(tokens["refresh"]))


def test_old_password_stops_working_after_password_change(api_client, user, tokens):
    assert change_password(tokens["access"]).status_code == 200

    response = api_client.post("/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


# --- deactivation and deletion ----------------------------------------------------------------
def test_user_deactivation_revokes_sessions_for_good(api, user, tokens, login):
    user.is_active = False
    user.save()
    assert_rejected(api.refresh(tokens["refresh"]))

    user.is_active = True
    user.save()

    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.me(tokens["access"]))
    fresh = login(user.email)
    assert api.refresh(fresh["refresh"]).status_code == 200


def test_tenant_deactivation_revokes_its_users_sessions_for_good(api, user, tokens, login):
    colleague = UserFactory(email="colleague@acme.io", tenant=user.tenant)
    colleague_pair = new_session(colleague)
    tenant = user.tenant

    tenant.is_active = False
    tenant.save()
    assert_rejected(api.refresh(tokens["refresh"]))
    tenant.is_active = True
    tenant.save()

    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.refresh(colleague_pair["refresh"]))
    assert_rejected(api.me(tokens["access"]))
    assert api.refresh(login(user.email)["refresh"]).status_code == 200


def test_tenant_deactivation_leaves_other_tenants_alone(api, user, tokens):
    outsider = new_session(UserFactory(email="outsider@example.com"))

    user.tenant.is_active = False
    user.tenant.save()

    assert api.refresh(outsider["refresh"]).status_code == 200


def test_deleted_users_tokens_are_rejected_not_an_error(api, user, tokens):
    user.delete()

    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.me(tokens["access"]))
    assert_rejected(api.verify(tokens["refresh"]))


# --- bounded storage --------------------------------------------------------------------------
def test_prune_sessions_deletes_expired_and_revoked_sessions_and_keeps_live_ones(api, user, clock):
    expired = new_session(user)
    revoked = new_session(user)
    api.logout(revoked["access"], revoked["refresh"])
    clock.advance(days=5)
    rotated = api.refresh(new_session(user)["refresh"]).json()  # its first token expires at day 7
    clock.advance(days=3)  # day 8: the first two sessions' last tokens have expired
    live = new_session(user)

    out = StringIO()
    call_command("prune_sessions", stdout=out)

    remaining = {str(pk) for pk in RefreshSession.objects.values_list("pk", flat=True)}
    assert remaining == {sid(rotated["refresh"]), sid(live["refresh"])}
    assert "Pruned 2 session(s)." in out.getvalue()
    for pair in (rotated, live):
        assert api.refresh(pair["refresh"]).status_code == 200
    assert_rejected(api.refresh(expired["refresh"]))


def test_prune_sessions_deletes_sessions_past_their_absolute_lifetime(api, user, clock):
    token = new_session(user)["refresh"]
    for _ in range(5):
        clock.advance(days=5)
        token = api.refresh(token).json()["refresh"]
    clock.advance(days=6)  # day 31: past SESSION_MAX_LIFETIME_DAYS, however recent the rotation

    call_command("prune_sessions", stdout=StringIO())

    assert not RefreshSession.objects.exists()


def test_fifty_refreshes_of_one_session_leave_exactly_one_row(api, user, tokens):
    token = tokens["refresh"]
    for _ in range(50):
        response = api.refresh(token)
        assert response.status_code == 200, response.content
        token = response.json()["refresh"]

    assert RefreshSession.objects.filter(user=user).count() == 1
    assert api.refresh(token).status_code == 200
