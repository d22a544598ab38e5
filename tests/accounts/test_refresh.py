"""POST /api/auth/refresh/ and refresh tokens at /verify/: contract refresh-session rules 1-3.

Rotation spends the presented token; inside the grace window the just-rotated token gets the
same new token back; anything else that is spent is a reuse attack that kills the session.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings

from apps.accounts import tokens as token_module
from apps.accounts.models import RefreshSession
from apps.core import clock as app_clock
from tests.support import assert_rejected, claims, url

DAY = 24 * 60 * 60


def info_log_lines(needle: str) -> list[str]:
    path = settings.LOG_DIR / "info.log"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [line for line in text.splitlines() if needle in line]


# --- rule 1: rotation -------------------------------------------------------------------------
def test_refresh_returns_a_new_pair_for_the_same_session(api, tokens):
    response = api.refresh(tokens["refresh"])

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    old, new = claims(tokens["refresh"]), claims(pair["refresh"])
    assert new["token_type"] == "refresh"
    assert new["jti"] != old["jti"]
    assert new["sid"] == old["sid"]
    assert new["user_id"] == old["user_id"]
    assert claims(pair["access"])["token_type"] == "access"
    assert api.me(pair["access"]).status_code == 200


def test_new_refresh_token_moves_the_session_forward(api, tokens):
    first = api.rotate(tokens["refresh"])
    second = api.rotate(first)

    assert len({tokens["refresh"], first, second}) == 3
    assert api.rotate(second)


def test_spent_refresh_token_is_rejected_after_the_grace_window(api, tokens, clock):
    api.rotate(tokens["refresh"])
    clock.advance(seconds=settings.REFRESH_REUSE_GRACE_SECONDS + 1)

    assert_rejected(api.refresh(tokens["refresh"]))


# --- rule 2: grace window and reuse detection -------------------------------------------------
def test_repeated_refreshes_inside_grace_window_return_the_same_new_token(api, tokens, clock):
    new = api.rotate(tokens["refresh"])

    repeats = []
    for _ in range(4):
        clock.advance(seconds=2)  # 8 s after the rotation: still inside the 10 s window
        response = api.refresh(tokens["refresh"])
        assert response.status_code == 200, response.content
        assert api.me(response.json()["access"]).status_code == 200
        repeats.append(response.json()["refresh"])

    assert repeats == [new] * 4
    assert api.rotate(new) not in (new, tokens["refresh"])


def test_reusing_refresh_after_grace_window_revokes_whole_session(api, tokens, user, clock):
    newest = api.rotate(tokens["refresh"])
    clock.advance(seconds=11)

    assert_rejected(api.refresh(tokens["refresh"]))

    assert_rejected(api.refresh(newest))
    session_id = claims(newest)["sid"]
    warnings = [line for line in info_log_lines(session_id) if line.startswith("[WARNING]")]
    assert len(warnings) == 1, warnings
    assert str(user.id) in warnings[0]
    assert "127.0.0.1" in warnings[0]
    assert newest not in warnings[0] and tokens["refresh"] not in warnings[0]


def test_reusing_an_older_ancestor_inside_the_window_revokes_whole_session(api, tokens):
    child = api.rotate(tokens["refresh"])
    grandchild = api.rotate(child)

    # The grandparent was rotated a moment ago, but it is no longer the just-rotated token.
    assert_rejected(api.refresh(tokens["refresh"]))

    assert_rejected(api.refresh(grandchild))
    assert_rejected(api.refresh(child))


def test_grace_window_does_not_chain(api, tokens, clock):
    child = api.rotate(tokens["refresh"])
    clock.advance(seconds=6)
    grandchild = api.rotate(child)
    clock.advance(seconds=1)

    # The child is the just-rotated token: honoured, and it gets the grandchild back.
    assert api.rotate(child) == grandchild
    # The parent's window has not run out yet, but a newer rotation ended its grace.
    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.refresh(grandchild))


def test_grace_window_counts_from_the_rotation_not_from_the_last_reuse(api, tokens, clock):
    new = api.rotate(tokens["refresh"])
    clock.advance(seconds=8)
    assert api.rotate(tokens["refresh"]) == new

    clock.advance(seconds=3)  # 11 s after the rotation, 3 s after the last honoured reuse

    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.refresh(new))


# --- rule 3: lifetimes ------------------------------------------------------------------------
def test_rotated_refresh_token_gets_a_fresh_refresh_lifetime(api, tokens, clock):
    clock.advance(days=3)

    new = claims(api.rotate(tokens["refresh"]))

    lifetime = settings.REFRESH_TOKEN_LIFETIME_DAYS * DAY
    assert new["exp"] - new["iat"] == lifetime
    assert new["exp"] > claims(tokens["refresh"])["exp"] + 2 * DAY
    assert abs(new["iat"] - app_clock.epoch_seconds(app_clock.now())) <= 2


def test_session_ends_at_its_absolute_lifetime_however_often_it_rotates(api, tokens, clock):
    first = claims(tokens["refresh"])
    session_end = first["iat"] + settings.SESSION_MAX_LIFETIME_DAYS * DAY
    token = tokens["refresh"]

    # Day 5, 10, ... 25, then 30 minus an hour: each rotation inside the 7-day token life.
    for step in [5 * DAY] * 5 + [5 * DAY - 3600]:
        clock.advance(seconds=step)
        token = api.rotate(token)
        assert claims(token)["exp"] <= session_end

    assert claims(token)["exp"] == session_end  # capped: 30 days from login, not 7 from now
    clock.advance(seconds=3600 + 1)

    assert_rejected(api.refresh(token))


@pytest.mark.parametrize("deactivate", ["user", "tenant"])
def test_refresh_for_a_deactivated_account_is_rejected(api, tokens, user, deactivate):
    target = user if deactivate == "user" else user.tenant
    target.is_active = False
    target.save()

    assert_rejected(api.refresh(tokens["refresh"]))


@pytest.mark.parametrize("deactivate", ["user", "tenant"])
def test_refresh_after_a_bulk_deactivation_is_rejected_and_stays_rejected(api, tokens, user, deactivate):
    # queryset.update() sends no signals: refresh itself must notice, and revoke for good.
    model = type(user) if deactivate == "user" else type(user.tenant)
    pk = user.pk if deactivate == "user" else user.tenant_id
    model.objects.filter(pk=pk).update(is_active=False)

    assert_rejected(api.refresh(tokens["refresh"]))

    model.objects.filter(pk=pk).update(is_active=True)
    assert_rejected(api.refresh(tokens["refresh"]))


def test_refresh_for_a_deleted_user_is_rejected_not_an_error(api, tokens, user):
    user.delete()

    assert_rejected(api.refresh(tokens["refresh"]))


# --- tokens that are not this session's current refresh token ---------------------------------
def test_access_token_is_rejected_at_refresh(api, tokens):
    assert_rejected(api.refresh(tokens["access"]))


def test_refresh_token_for_a_session_that_does_not_exist_is_rejected(api, user):
    now = app_clock.now()
    forged_sid = token_module.mint_refresh(
        user_id=user.id, session_id=uuid.uuid4(), jti=token_module.new_jti(),
        issued_at=now, expires_at=now + timedelta(days=1),
    )
    not_a_uuid = token_module.mint_refresh(
        user_id=user.id, session_id="not-a-session", jti=token_module.new_jti(),
        issued_at=now, expires_at=now + timedelta(days=1),
    )

    assert_rejected(api.refresh(forged_sid))
    assert_rejected(api.refresh(not_a_uuid))


def test_refresh_token_naming_another_users_session_is_rejected(api, tokens, user):
    from tests.factories import UserFactory

    intruder = UserFactory(email="intruder@example.com")
    victim = claims(tokens["refresh"])
    session = RefreshSession.objects.get(pk=victim["sid"])
    forged = token_module.mint_refresh(
        user_id=intruder.id, session_id=session.id, jti=session.current_jti,
        issued_at=session.current_issued_at, expires_at=session.current_expires_at,
    )

    assert_rejected(api.refresh(forged))
    assert api.rotate(tokens["refresh"])


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * 5000], ids=["empty", "word", "dots", "huge"])
def test_garbage_refresh_token_is_rejected_as_an_invalid_token(api, db, token):
    assert_rejected(api.refresh(token))


@pytest.mark.parametrize(
    "body", [{}, {"refresh": None}, {"refresh": ["x"]}, {"refresh": {"a": 1}}, {"token": "x"}],
    ids=["empty", "null", "list", "object", "wrong-field"],
)
def test_malformed_refresh_body_is_a_json_400(api_client, db, body):
    response = api_client.post(url("auth-refresh"), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "refresh" in response.json()["errors"]


def test_unparseable_refresh_body_is_a_json_400(api_client, db):
    response = api_client.post(url("auth-refresh"), "{not json", content_type="application/json")

    assert response.status_code == 400, response.content
    assert isinstance(response.json()["code"], str)


# --- /verify/ with refresh tokens -------------------------------------------------------------
def test_verify_reports_a_revoked_refresh_token_as_invalid(api, auth_client, tokens):
    assert auth_client.post(url("auth-logout"), {"refresh": tokens["refresh"]}, format="json").status_code == 205

    response = api.verify(tokens["refresh"])

    assert_rejected(response)


def test_verify_accepts_a_just_rotated_refresh_token_without_revoking_anything(api, tokens):
    new = api.rotate(tokens["refresh"])

    assert api.verify(tokens["refresh"]).status_code == 200
    assert api.verify(new).status_code == 200
    assert api.rotate(new)


def test_verify_of_a_spent_token_after_the_window_rejects_without_revoking(api, tokens, clock):
    new = api.rotate(tokens["refresh"])
    clock.advance(seconds=11)

    assert_rejected(api.verify(tokens["refresh"]))

    # /verify/ only reads: the session is still alive for its rightful holder.
    assert api.verify(new).status_code == 200
    assert api.rotate(new)
