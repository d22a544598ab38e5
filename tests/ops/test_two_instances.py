"""Scale-out: two app instances (each its own gunicorn with 2 workers) on one PostgreSQL and
one Redis agree on sessions, throttles and security events; metrics stay per instance.

PostgreSQL + Redis only (the second run of scripts/test): SQLite is one file on one machine,
which is not what several instances behind a load balancer share.
"""
from __future__ import annotations

import uuid

import pytest
import requests

import devprocs as services

pytestmark = [pytest.mark.live]

PASSWORD = "Correct-Horse-42!"
TOKEN = "scale-out-metrics-token-" + "t" * 16


class App:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: dict | None = None, access: str | None = None):
        headers = {"Authorization": f"Bearer {access}"} if access else {}
        response = requests.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=15)
        return response.status_code, (response.json() if response.content and response.headers.get("Content-Type", "").startswith("application/json") else response.text)

    def login(self, email: str, password: str = PASSWORD):
        return self.call("POST", "/api/auth/login/", {"email": email, "password": password})


@pytest.fixture(scope="module")
def two_instances():
    if not services.using_postgres():
        pytest.skip("two instances share PostgreSQL + Redis: runs in the PostgreSQL + Redis pass")
    redis_url = services.shared_redis_url()
    with services.scratch_database_url(prefix="authsvc_scaleout") as database_url:
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Keys of their own on the shared Redis (never flushed): both instances, one prefix.
            "REDIS_KEY_PREFIX": f"scaleout-{uuid.uuid4().hex[:10]}",
            "THROTTLE_ENABLED": "True",
            "THROTTLE_LOGIN_EMAIL": "4/min",
            "THROTTLE_LOGIN_IP": "1000/min",
            "METRICS_TOKEN": TOKEN,
        }
        with (
            services.live_server(workers=2, **shared) as server_a,
            services.live_server(workers=2, migrate=False, **shared) as server_b,
        ):
            yield App(server_a.url), App(server_b.url)


def register(app: App, **extra) -> dict:
    email = f"scale-{uuid.uuid4().hex[:10]}@example.com"
    status, body = app.call("POST", "/api/auth/register/", {"email": email, "password": PASSWORD, **extra})
    assert status == 201, body
    return {"email": email, **body}


def test_a_session_made_on_one_instance_is_seen_and_revoked_on_the_other(two_instances):
    a, b = two_instances
    account = register(a)
    status, phone = a.login(account["email"])
    assert status == 200

    status, sessions = b.call("GET", "/api/auth/sessions/", access=account["access"])
    assert status == 200
    ids = {s["id"] for s in sessions}
    assert len(ids) == 2  # register's and the phone's

    phone_sid = next(s["id"] for s in sessions if not s["current"] and s["id"])
    assert b.call("DELETE", f"/api/auth/sessions/{phone_sid}/", access=account["access"])[0] == 204
    assert a.call("POST", "/api/auth/refresh/", {"refresh": phone["refresh"]})[0] == 401
    status, sessions = a.call("GET", "/api/auth/sessions/", access=account["access"])
    assert {s["id"] for s in sessions} == ids - {phone_sid}


def test_the_failed_login_limit_counts_attempts_on_both_instances(two_instances):
    a, b = two_instances
    account = register(a)

    statuses = [app.login(account["email"], "Wrong-password-1")[0] for app in (a, b, a, b)]
    assert statuses == [401, 401, 401, 401]

    status, body = b.login(account["email"], "Wrong-password-1")
    assert (status, body["code"]) == (429, "throttled")
    assert a.login(account["email"], "Wrong-password-1")[0] == 429


def test_security_events_written_by_either_instance_are_one_history(two_instances):
    a, b = two_instances
    account = register(a, tenant_name=f"Scale {uuid.uuid4().hex[:6]}")
    assert a.login(account["email"])[0] == 200
    assert b.login(account["email"], "Wrong-password-1")[0] == 401
    status, laptop = b.login(account["email"])
    assert status == 200
    assert a.call("POST", "/api/auth/logout/", {"refresh": laptop["refresh"]}, access=laptop["access"])[0] == 205

    from_a = a.call("GET", "/api/auth/events/", access=account["access"])[1]["results"]
    from_b = b.call("GET", "/api/auth/events/", access=account["access"])[1]["results"]
    tenant_view = b.call("GET", "/api/tenants/current/events/", access=account["access"])[1]["results"]

    assert from_a == from_b == tenant_view
    assert [e["type"] for e in from_a] == ["logout", "login_succeeded", "login_failed", "login_succeeded"]


def test_metrics_are_per_instance(two_instances):
    a, b = two_instances
    account = register(a)

    def logins(app: App) -> float:
        response = requests.get(f"{app.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 200
        line = next((ln for ln in response.text.splitlines() if ln.startswith('auth_logins_total{outcome="success"}')), None)
        return float(line.split()[-1]) if line else 0.0

    before_a, before_b = logins(a), logins(b)
    for _ in range(3):
        assert a.login(account["email"])[0] == 200

    assert logins(a) == before_a + 3
    assert logins(b) == before_b  # each instance reports its own workers; the scraper adds them up
