"""Throttles of the auth endpoints (OWASP ASVS V2.2.1, anti-automation): 429 JSON
`throttled` with an integer Retry-After; keyed on the client address with exactly NUM_PROXIES
trusted hops, so a forged X-Forwarded-For buys nothing; shared by every process through
Redis, and still enforced per process when Redis is down."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from django.urls import resolve

import devprocs as services
from tests.factories import PASSWORD
from tests.support import assert_throttled, url

LOGIN = url("auth-login")
WRONG = "wrong-password-1"
REGISTER = "/api/auth/register/"
REFRESH = "/api/auth/refresh/"
VERIFY = "/api/auth/verify/"
PASSWORD_CHANGE = "/api/auth/password/change/"
HIGH = "1000/hour"

pytestmark = pytest.mark.usefixtures("mid_window")










def test_login_is_throttled_per_client_ip_across_different_emails(db, api, rates):
    rates(login_ip="3/hour")

    statuses = [api.login(f"nobody{i}@example.com", WRONG).status_code for i in range(3)]

    assert statuses == [401, 401, 401]
    assert_throttled(api.login("nobody9@example.com", WRONG))


def test_login_is_throttled_per_email_whatever_address_the_attempts_come_from(user, api, rates):
    rates(login_email="3/hour")
    for i, email in enumerate(["owner@acme.io", "OWNER@acme.io", " Owner@Acme.io "]):
        assert api.login(email, WRONG, REMOTE_ADDR=f"198.51.100.{i + 1}").status_code == 401

    # Even the right password waits: the throttle is decided before the password is checked.
    assert_throttled(api.login("owner@acme.io", PASSWORD, REMOTE_ADDR="198.51.100.77"))


def test_per_email_login_limit_counts_failures_only_so_right_passwords_are_never_refused(user, api, rates):
    rates(login_email="2/hour")
    for _ in range(6):
        assert api.login("owner@acme.io", PASSWORD).status_code == 200
    assert api.login("owner@acme.io", WRONG).status_code == 401  # one failure: still allowed
    assert api.login("owner@acme.io", PASSWORD).status_code == 200
    assert api.login("owner@acme.io", WRONG).status_code == 401  # second failure: the limit
    assert_throttled(api.login("owner@acme.io", PASSWORD))


def test_per_client_login_limit_still_counts_every_attempt(user, api, rates):
    rates(login_ip="3/hour")
    for _ in range(3):
        assert api.login("owner@acme.io", PASSWORD).status_code == 200
    assert_throttled(api.login("owner@acme.io", PASSWORD))


def test_throttling_one_email_leaves_other_accounts_able_to_log_in(user, api, rates):
    rates(login_email="2/hour")
    for _ in range(3):
        api.login("victim@example.com", WRONG)

    assert api.login("owner@acme.io", PASSWORD).status_code == 200


def test_register_is_throttled_per_client_ip(db, api_client, rates):
    rates(register="2/hour")
    for i in range(2):
        body = {"email": f"new{i}@example.com", "password": PASSWORD}
        assert api_client.post(REGISTER, body, format="json").status_code == 201

    assert_throttled(api_client.post(REGISTER, {"email": "new9@example.com", "password": PASSWORD}, format="json"))


def test_refresh_is_throttled_per_client_ip(db, api_client, rates):
    rates(refresh="2/hour")
    for _ in range(2):
        response = api_client.post(REFRESH, {"refresh": "not-a-token"}, format="json")
        assert response.json()["code"] == "token_not_valid"

    assert_throttled(api_client.post(REFRESH, {"refresh": "not-a-token"}, format="json"))


def test_verify_shares_the_refresh_budget(db, api_client, rates):
    rates(refresh="2/hour")
    api_client.post(REFRESH, {"refresh": "x"}, format="json")
    api_client.post(VERIFY, {"token": "x"}, format="json")

    assert_throttled(api_client.post(VERIFY, {"token": "x"}, format="json"))


def test_password_change_is_throttled_per_user(auth_client, rates):
    rates(password_change="2/hour")
    body = {"old_password": "not-my-password", "new_password": "A-brand-new-Passphrase-9"}
    for _ in range(2):
        response = auth_client.post(PASSWORD_CHANGE, body, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "invalid")

    assert_throttled(auth_client.post(PASSWORD_CHANGE, body, format="json"))


def test_rotating_a_forged_x_forwarded_for_does_not_escape_the_ip_throttle(db, api, rates, settings):
    settings.NUM_PROXIES = 0
    rates(login_ip="3/hour")
    for i in range(3):
        api.login(f"a{i}@example.com", WRONG, HTTP_X_FORWARDED_FOR=f"10.{i}.{i}.{i}")

    assert_throttled(api.login("a9@example.com", WRONG, HTTP_X_FORWARDED_FOR="192.0.2.200"))


def test_behind_one_proxy_only_the_hop_the_proxy_appended_counts(db, api, rates, settings):
    settings.NUM_PROXIES = 1
    rates(login_ip="3/hour")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for i in range(3):
        # The client writes anything it likes on the left; our proxy appends what it saw.
        api.login(f"b{i}@example.com", WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9", **proxy)

    assert_throttled(api.login("b9@example.com", WRONG, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", **proxy))
    # Another client behind the same proxy has its own budget.
    assert api.login("b9@example.com", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.10", **proxy).status_code == 401


def test_throttle_enabled_false_switches_every_throttle_off(api, auth_client, api_client, rates, settings):
    rates(login_ip="1/hour", login_email="1/hour", register="1/hour", refresh="1/hour", password_change="1/hour")
    settings.THROTTLE_ENABLED = False
    change = {"old_password": "not-my-password", "new_password": "A-brand-new-Passphrase-9"}

    for i in range(4):
        assert api.login("same@example.com", WRONG).status_code == 401
        assert api_client.post(REFRESH, {"refresh": "x"}, format="json").status_code == 401
        assert api_client.post(REGISTER, {"email": f"r{i}@example.com", "password": PASSWORD}, format="json").status_code == 201
        assert auth_client.post(PASSWORD_CHANGE, change, format="json").status_code == 400


def test_redis_down_still_throttles_with_the_per_process_fallback_and_never_500s(db, api, rates, use_redis):
    use_redis(f"redis://127.0.0.1:{services.free_port()}/0")  # nothing listens there
    rates(login_ip="3/hour")

    statuses = [api.login(f"c{i}@example.com", WRONG).status_code for i in range(3)]

    assert statuses == [401, 401, 401]
    assert_throttled(api.login("c9@example.com", WRONG))


def _wait_out_window_edge(period: int, margin: float = 15) -> None:
    """A live server runs on the real clock: do not start within `margin` s of a window's end."""
    remaining = period - time.time() % period
    if remaining < margin:
        time.sleep(remaining + 0.5)


@pytest.mark.live
@pytest.mark.redis
def test_login_limit_holds_across_processes_sharing_redis(shared_redis_url):
    """Two gunicorn instances (separate processes, separate memory) behind one Redis: the
    limit of 3 holds for their sum; per-process counters would have allowed 6."""
    env = {
        "THROTTLE_ENABLED": "True",
        "THROTTLE_LOGIN_IP": "3/hour",
        "THROTTLE_LOGIN_EMAIL": HIGH,
        "REDIS_URL": shared_redis_url,
        "REDIS_KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex[:12]}",
    }
    with services.live_server(workers=1, **env) as first, services.live_server(workers=1, **env) as second:
        _wait_out_window_edge(3600)
        responses = [
            requests.post(f"{server.url}{LOGIN}", json={"email": f"d{i}@example.com", "password": "wrong-1"}, timeout=10)
            for i, server in enumerate([first, second, first, second, first, second])
        ]

    assert [r.status_code for r in responses[:3]] == [401, 401, 401]
    for response in responses[3:]:
        assert response.status_code == 429
        assert response.json()["code"] == "throttled"
        assert response.headers["Retry-After"].isdigit()


def test_every_throttled_endpoint_documents_429_in_the_schema(db, api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    checked = []
    for path, operations in schema["paths"].items():
        view = resolve(re.sub(r"\{[^}]+\}", "x", path)).func.view_class
        if not getattr(view, "throttle_classes", None):
            continue
        for method, operation in operations.items():
            checked.append(f"{method.upper()} {path}")
            assert "429" in operation["responses"], f"{method.upper()} {path} is throttled but does not document 429"

    assert {"POST /api/auth/login/", "POST /api/auth/verify/", "POST /api/auth/password/change/"} <= set(checked)


def test_login_with_an_email_that_is_not_valid_unicode_is_a_400_not_a_500(db, api_client, rates):
    """Throttles key on raw input before validation: a JSON "\\udfff" (a lone surrogate,
    which UTF-8 cannot encode) once made the email throttle's key derivation raise."""
    rates()

    response = api_client.generic(
        "POST", LOGIN, b'{"email": "\\udfff@example.com", "password": "whatever-123"}', content_type="application/json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
