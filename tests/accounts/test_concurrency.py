"""Refresh races against the real thing: gunicorn workers (and two app instances) sharing one
database, so the row lock, not process memory, is what keeps a session from forking.

The grace window is 2 s here; waiting it out is a bounded sleep, because a live server's
clock cannot be moved from the test.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from devprocs import live_server, scratch_database_url

pytestmark = [pytest.mark.live]

GRACE = 2
PAST_GRACE = GRACE + 0.6
PARALLEL = 12
PASSWORD = "Correct-Horse-42!"


class App:
    """A tiny JSON client for one live server (127.0.0.1 only, a connection per call)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1"
        self.port = parts.port

    def call(self, method: str, path: str, body: dict | None = None, access: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if access:
            headers["Authorization"] = f"Bearer {access}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, (json.loads(raw) if raw else {})

    def register(self) -> dict:
        email = f"racer-{uuid.uuid4().hex[:10]}@example.com"
        status, body = self.call("POST", "/api/auth/register/", {"email": email, "password": PASSWORD})
        assert status == 201, body
        return {"email": email, **body}

    def refresh(self, token: str) -> tuple[int, dict]:
        return self.call("POST", "/api/auth/refresh/", {"refresh": token})


def assert_rejected(result: tuple[int, dict]) -> None:
    status, body = result
    assert status == 401, body
    assert body["code"] == "token_not_valid"


def rotate(app: App, token: str) -> dict:
    status, body = app.refresh(token)
    assert status == 200, body
    return body


def refresh_in_parallel(apps: list[App], token: str) -> list[tuple[int, dict]]:
    """PARALLEL refreshes with one token, released together, spread over `apps`."""
    barrier = threading.Barrier(PARALLEL)

    def one(n: int) -> tuple[int, dict]:
        barrier.wait(timeout=10)
        return apps[n % len(apps)].refresh(token)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL), timeout=30))


def bursts_never_fork(apps: list[App], token: str, *, rounds: int = 10) -> str:
    """Rounds of PARALLEL refreshes with one token: each round must answer 200 everywhere with
    one and the same new token (several rounds, because a lost race needs a close overlap)."""
    for _ in range(rounds):
        results = refresh_in_parallel(apps, token)
        assert [status for status, _ in results] == [200] * PARALLEL, results
        issued = {body["refresh"] for _, body in results}
        assert len(issued) == 1, f"the session forked into {len(issued)} tokens"
        (token,) = issued
    return token


def warm_up(app: App) -> None:
    """Every worker imports and connects before the timed part (the window is short)."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: app.call("GET", "/health")[0], range(6), timeout=30))
    assert set(statuses) == {200}, statuses


def session_rows(database_url: str) -> int:
    """RefreshSession rows in a live server's own (scratch) database."""
    query = "SELECT COUNT(*) FROM accounts_refreshsession"
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            return connection.execute(query).fetchone()[0]
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("with_redis", [False, True], ids=["database-only", "with-redis"])
def test_parallel_refreshes_with_one_token_get_one_new_token_and_the_session_never_forks(request, with_redis):
    overrides = {"REFRESH_REUSE_GRACE_SECONDS": str(GRACE)}
    if with_redis:
        overrides["REDIS_URL"] = request.getfixturevalue("redis_server").url
    with live_server(workers=3, **overrides) as server:
        app = App(server.url)
        warm_up(app)
        account = app.register()

        newest = bursts_never_fork([app], account["refresh"])

        assert session_rows(server.env["DATABASE_URL"]) == 1
        forward = rotate(app, newest)
        status, listed = app.call("GET", "/api/auth/sessions/", access=forward["access"])
        assert status == 200 and len(listed) == 1, listed

        time.sleep(PAST_GRACE)  # `newest` was rotated (by `forward`) more than GRACE ago

        assert_rejected(app.refresh(newest))
        assert_rejected(app.refresh(forward["refresh"]))
        assert session_rows(server.env["DATABASE_URL"]) == 1
        assert server.read_logs().count("Refresh token reuse detected") == 1


def test_two_instances_share_rotation_reuse_detection_and_revocation(redis_server):
    with scratch_database_url() as database_url:
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "REFRESH_REUSE_GRACE_SECONDS": str(GRACE),
        }
        with live_server(workers=2, **shared) as server_a, live_server(workers=2, migrate=False, **shared) as server_b:
            a, b = App(server_a.url), App(server_b.url)
            warm_up(a)
            warm_up(b)
            account = a.register()

            # One token, refreshed at once on both instances: one new token for all.
            spent_token = bursts_never_fork([a, b], account["refresh"], rounds=5)
            newest = rotate(a, spent_token)["refresh"]
            # Inside the window, B honours the token A just rotated, and returns A's new token.
            assert rotate(b, spent_token)["refresh"] == newest

            time.sleep(PAST_GRACE)
            assert_rejected(b.refresh(spent_token))  # reuse on B...
            assert_rejected(a.refresh(newest))  # ...kills the session on A

            # A logout on A holds on B at once.
            status, phone = b.call("POST", "/api/auth/login/", {"email": account["email"], "password": PASSWORD})
            assert status == 200, phone
            status, _ = a.call("POST", "/api/auth/logout/", {"refresh": phone["refresh"]}, access=phone["access"])
            assert status == 205
            assert_rejected(b.refresh(phone["refresh"]))
            assert_rejected(b.call("POST", "/api/auth/verify/", {"token": phone["refresh"]}))

            # Logout-all on B rejects every earlier access token on A at once.
            status, laptop = a.call("POST", "/api/auth/login/", {"email": account["email"], "password": PASSWORD})
            assert status == 200, laptop
            assert b.call("POST", "/api/auth/logout-all/", access=laptop["access"])[0] == 200
            assert_rejected(a.call("GET", "/api/auth/me/", access=laptop["access"]))
            assert_rejected(a.refresh(laptop["refresh"]))
