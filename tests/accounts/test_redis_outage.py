"""Revocation holds whatever Redis does (contract rules 4-6): up, killed, restarted empty,
flushed, black-holed, or missing one marker. The database is the record; Redis the fast path.

Each test has a private redis-server (never the shared one) and a transactional database, so
the Redis markers, which are written after commit, really are written.
"""
from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.services import get_tokens_for_user
from devprocs import black_hole, wait_until
from tests.support import assert_rejected, sid

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REDIS_DOWN = "Redis unavailable"
REDIS_BACK = "Redis available again"


class LogTail:
    """info.log lines written since this object was made."""

    def __init__(self) -> None:
        self.path = Path(settings.LOG_DIR) / "info.log"
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def lines(self, needle: str, level: str) -> list[str]:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", errors="replace")
        return [line for line in text.splitlines() if line.startswith(f"[{level}]") and needle in line]




def marker_key(session_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:session:revoked:{session_id}"


def new_session(user) -> dict:
    return get_tokens_for_user(user, ip="127.0.0.1", user_agent="pytest")










@pytest.fixture
def private_redis(redis_server, use_redis):
    use_redis(redis_server.url)
    return redis_server


def test_revocation_writes_a_marker_with_a_ttl_under_the_key_prefix(api, private_redis, user, tokens):
    assert api.logout(tokens["access"], tokens["refresh"]).status_code == 205

    redis = private_redis.client()
    key = marker_key(sid(tokens["refresh"]))
    assert redis.exists(key)
    remaining = jwt.decode(tokens["refresh"], options={"verify_signature": False})["exp"] - time.time()
    # As long as the token could still be presented, give or take whole-second rounding.
    assert remaining - 5 < redis.ttl(key) <= remaining + 2
    assert all(k.decode().startswith(f"{settings.REDIS_KEY_PREFIX}:") for k in redis.keys("*"))
    assert all(redis.ttl(k) > 0 for k in redis.keys("*"))  # rule 6: every key expires


def test_logout_all_marks_every_session_revoked(api, private_redis, user, tokens):
    others = [new_session(user) for _ in range(2)]

    assert api.logout_all(tokens["access"]).status_code == 200

    redis = private_redis.client()
    for pair in [tokens, *others]:
        assert redis.ttl(marker_key(sid(pair["refresh"]))) > 0
        assert_rejected(api.refresh(pair["refresh"]))


def test_killing_redis_mid_run_of_refreshes_never_fails_a_request(api, private_redis, user, tokens):
    revoked = new_session(user)
    assert api.logout(revoked["access"], revoked["refresh"]).status_code == 205  # marker written while Redis is up
    token = tokens["refresh"]

    for n in range(20):
        if n == 10:
            private_redis.stop()
        token = api.rotate(token)
        assert_rejected(api.refresh(revoked["refresh"]))

    # Revocation and reuse detection keep working on the database alone.
    victim = new_session(user)
    assert api.logout(victim["access"], victim["refresh"]).status_code == 205
    assert_rejected(api.refresh(victim["refresh"]))
    ancestor = new_session(user)["refresh"]
    newest = api.rotate(api.rotate(ancestor))
    assert_rejected(api.refresh(ancestor))
    assert_rejected(api.refresh(newest))
    health = APIClient().get("/health")
    assert health.status_code == 200
    assert health.json()["cache"] == "unavailable" and health.json()["status"] == "degraded"


def test_revoked_token_stays_rejected_when_redis_restarts_empty(api, private_redis, user, tokens):
    revoked = new_session(user)
    assert api.logout(revoked["access"], revoked["refresh"]).status_code == 205
    revoked_during_outage = new_session(user)
    private_redis.stop()
    assert api.logout(revoked_during_outage["access"], revoked_during_outage["refresh"]).status_code == 205  # no marker can be written

    private_redis.restart_empty()

    for _ in range(3):
        assert_rejected(api.refresh(revoked["refresh"]))
        assert_rejected(api.refresh(revoked_during_outage["refresh"]))
    assert api.rotate(tokens["refresh"])


def test_revoked_token_stays_rejected_after_flushall(api, private_redis, user, tokens):
    revoked = new_session(user)
    assert api.logout(revoked["access"], revoked["refresh"]).status_code == 205
    redis = private_redis.client()

    redis.flushall()

    assert_rejected(api.refresh(revoked["refresh"]))
    assert api.rotate(tokens["refresh"])
    # The database's answer puts the lost marker back for the next replay.
    assert redis.ttl(marker_key(sid(revoked["refresh"]))) > 0
    assert_rejected(api.refresh(revoked["refresh"]))


def test_lost_revocation_marker_does_not_revive_the_token(api, private_redis, user, tokens):
    assert api.logout(tokens["access"], tokens["refresh"]).status_code == 205
    redis = private_redis.client()
    assert redis.delete(marker_key(sid(tokens["refresh"]))) == 1

    assert_rejected(api.refresh(tokens["refresh"]))
    assert_rejected(api.verify(tokens["refresh"]))


def test_black_holed_redis_costs_bounded_time_and_opens_the_breaker_once(api, use_redis, user, tokens):
    revoked = new_session(user)
    assert api.logout(revoked["access"], revoked["refresh"]).status_code == 205
    client = APIClient()
    durations: list[float] = []

    def timed(method, *args, **kwargs):
        started = time.monotonic()
        response = method(*args, **kwargs)
        durations.append(time.monotonic() - started)
        return response

    with black_hole() as port:
        use_redis(f"redis://127.0.0.1:{port}/0")
        tail = LogTail()
        body = {"email": user.email, "password": "Correct-Horse-42!"}
        login = timed(client.post, "/api/auth/login/", body, format="json")
        assert login.status_code == 200, login.content
        token = login.json()["refresh"]
        for _ in range(8):
            response = timed(client.post, "/api/auth/refresh/", {"refresh": token}, format="json")
            assert response.status_code == 200, response.content
            token = response.json()["refresh"]
            assert_rejected(timed(client.post, "/api/auth/refresh/", {"refresh": revoked["refresh"]}, format="json"))
        health = timed(client.get, "/health")
        assert health.status_code == 200
        assert health.json()["cache"] == "unavailable"

    assert max(durations) < 1.5, durations
    # Without the breaker every request would wait a timeout per Redis call (~0.5 s each).
    assert sum(durations) < 3.0, durations
    assert len(tail.lines(REDIS_DOWN, "WARNING")) == 1


def test_redis_recovery_is_logged_once_and_restores_the_fast_path(api, private_redis, user, tokens):
    tail = LogTail()
    private_redis.stop()
    token = tokens["refresh"]
    for _ in range(5):
        token = api.rotate(token)
    assert APIClient().get("/health").json()["cache"] == "unavailable"

    private_redis.restart_empty()

    # The breaker lets one probe through after its cool-down (0.5 s here): bounded wait.
    assert wait_until(lambda: APIClient().get("/health").json()["cache"] == "connected", timeout=5, interval=0.1)
    assert api.rotate(token)
    assert len(tail.lines(REDIS_DOWN, "WARNING")) == 1
    assert len(tail.lines(REDIS_BACK, "INFO")) == 1
    assert api.logout(tokens["access"], tokens["refresh"]).status_code == 205
    assert private_redis.client().exists(marker_key(sid(tokens["refresh"])))
