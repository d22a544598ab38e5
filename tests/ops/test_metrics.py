"""GET /metrics: bearer-only Prometheus text, figures from the services and the middleware,
and, under gunicorn, the sum over every worker."""
from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

import devprocs as services
from apps.core.cache import gateway
from tests.conftest import bearer
from tests.factories import PASSWORD

TOKEN = "metrics-scrape-token-" + "m" * 20


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client=None, token=TOKEN):
    client = client or APIClient()
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def parse(text: str, name: str, **labels) -> float:
    """The sample `name{labels}` from exposition text (labels in any order)."""
    total = 0.0
    found = False
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total, found = total + float(match.group(2)), True
    assert found, f"{name}{labels} not in scrape"
    return total


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


# --- access ---------------------------------------------------------------------------------
def test_metrics_is_404_when_no_token_is_configured(db, settings):
    settings.METRICS_TOKEN = ""

    response = scrape()

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer ", TOKEN, f"Bearer {TOKEN}x"])
def test_metrics_refuses_anything_but_the_bearer_token(db, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}

    response = APIClient().get("/metrics", **extra)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "metrics" not in response.content.decode().lower().split("detail")[0]


def test_metrics_answers_prometheus_text_with_the_contract_names(db, metrics_token):
    response = scrape()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    for name in ("http_requests_total", "http_request_duration_seconds", "auth_logins_total",
                 "auth_refresh_total", "auth_sessions_revoked_total", "redis_circuit_open", "mail_queue_pending"):
        assert f"# TYPE {name} " in text


def test_metrics_follows_the_https_redirect_in_production(db, metrics_token, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert scrape().status_code == 301
    assert APIClient().get("/health/live").status_code == 200  # health stays exempt


# --- figures --------------------------------------------------------------------------------
def test_requests_are_counted_by_url_name_method_and_status(db, metrics_token):
    before = value("http_requests_total", view="auth-me", method="GET", status="401")
    unmatched = value("http_requests_total", view="unmatched", method="GET", status="404")
    client = APIClient()

    client.get("/api/auth/me/")
    client.get("/api/auth/me/")
    client.get("/api/no/such/path/zq-leak-marker/")
    client.get("/another/random/thing")

    assert value("http_requests_total", view="auth-me", method="GET", status="401") == before + 2
    assert value("http_requests_total", view="unmatched", method="GET", status="404") == unmatched + 2
    assert value("http_request_duration_seconds_count", view="auth-me", method="GET") >= 2
    text = scrape().content.decode()
    assert "/api/no/such/path" not in text and "zq-leak-marker" not in text


def test_health_checks_and_odd_methods_get_bounded_labels(db, metrics_token):
    before = value("http_requests_total", view="health-live", method="GET", status="200")

    APIClient().get("/health/live")
    APIClient().generic("FROBNICATE", "/api/auth/me/")

    assert value("http_requests_total", view="health-live", method="GET", status="200") == before + 1
    assert value("http_requests_total", view="auth-me", method="other", status="401") >= 1


def test_login_outcomes_are_counted(user, metrics_token):
    success = value("auth_logins_total", outcome="success")
    invalid = value("auth_logins_total", outcome="invalid_credentials")
    client = APIClient()

    client.post("/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json")
    client.post("/api/auth/login/", {"email": user.email, "password": "wrong-one-1"}, format="json")
    client.post("/api/auth/login/", {"email": "ghost@example.com", "password": "wrong-one-1"}, format="json")

    assert value("auth_logins_total", outcome="success") == success + 1
    assert value("auth_logins_total", outcome="invalid_credentials") == invalid + 2


def test_refresh_outcomes_are_counted(user, metrics_token, clock):
    before = {o: value("auth_refresh_total", outcome=o) for o in ("rotated", "reissued", "rejected", "reuse_detected")}
    client = APIClient()
    first = client.post("/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json").json()["refresh"]

    client.post("/api/auth/refresh/", {"refresh": first}, format="json")  # rotated
    client.post("/api/auth/refresh/", {"refresh": first}, format="json")  # reissued (grace)
    clock.advance(seconds=11)
    client.post("/api/auth/refresh/", {"refresh": first}, format="json")  # reuse
    client.post("/api/auth/refresh/", {"refresh": first}, format="json")  # session revoked: rejected
    client.post("/api/auth/refresh/", {"refresh": "garbage"}, format="json")  # rejected

    after = {o: value("auth_refresh_total", outcome=o) - before[o] for o in before}
    assert after == {"rotated": 1, "reissued": 1, "reuse_detected": 1, "rejected": 2}


@pytest.mark.django_db(transaction=True)
def test_each_revoked_session_is_counted_once_by_reason(user, metrics_token):
    from tests.factories import UserFactory  # noqa: F401 - user fixture makes the account

    before = {r: value("auth_sessions_revoked_total", reason=r) for r in ("logout", "logout_all")}
    client = APIClient()
    pairs = [client.post("/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json").json() for _ in range(3)]
    caller = bearer(pairs[0]["access"])

    caller.post("/api/auth/logout/", {"refresh": pairs[1]["refresh"]}, format="json")
    caller.post("/api/auth/logout/", {"refresh": pairs[1]["refresh"]}, format="json")  # already revoked
    caller.post("/api/auth/logout-all/")  # the two still live

    assert value("auth_sessions_revoked_total", reason="logout") == before["logout"] + 1
    assert value("auth_sessions_revoked_total", reason="logout_all") == before["logout_all"] + 2


def test_redis_circuit_open_is_1_while_the_breaker_is_open(db, metrics_token, use_redis):
    with services.black_hole() as port:
        use_redis(f"redis://127.0.0.1:{port}/0")
        gateway.ping()  # times out: the breaker opens

        assert parse(scrape().content.decode(), "redis_circuit_open") == 1
    gateway.reset()
    assert parse(scrape().content.decode(), "redis_circuit_open") == 0


# --- under gunicorn: the sum over workers -----------------------------------------------------
def test_a_scrape_shows_the_sum_over_every_gunicorn_worker(tmp_path):
    multiproc = tmp_path / "prometheus"

    def workers_with_figures() -> set[str]:
        return {p.name.rsplit("_", 1)[1] for p in Path(multiproc).glob("counter_*.db") if p.stat().st_size > 0}

    with services.live_server(workers=3, METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(multiproc)) as server:
        # Batches of eight clients at once, until at least two workers have served some: the
        # port opens before every worker has loaded the app, and serial requests may all be
        # accepted by one idle worker, which would prove nothing about summing. Bounded.
        requests_sent, deadline = 0, time.monotonic() + 30
        with ThreadPoolExecutor(max_workers=8) as pool:
            while requests_sent < 60 or (len(workers_with_figures()) < 2 and time.monotonic() < deadline):
                statuses = list(pool.map(
                    lambda _: requests.get(f"{server.url}/api/auth/me/", timeout=10).status_code, range(20),
                ))
                assert statuses == [401] * 20
                requests_sent += 20
        register = requests.post(f"{server.url}/api/auth/register/", json={"email": "m@example.com", "password": PASSWORD}, timeout=10)
        assert register.status_code == 201
        for password in (PASSWORD, "wrong-one-1", "wrong-one-2"):
            requests.post(f"{server.url}/api/auth/login/", json={"email": "m@example.com", "password": password}, timeout=10)

        response = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        served_by = workers_with_figures()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert parse(text, "http_requests_total", view="auth-me", method="GET", status="401") == requests_sent
    assert parse(text, "http_request_duration_seconds_count", view="auth-me", method="GET") == requests_sent
    assert parse(text, "auth_logins_total", outcome="success") == 1
    assert parse(text, "auth_logins_total", outcome="invalid_credentials") == 2
    assert parse(text, "redis_circuit_open") == 0
    # The figures really came from several processes: a per-worker registry would show one.
    assert len(served_by) >= 2


def test_gunicorn_wipes_only_metric_files_from_a_named_directory(tmp_path):
    multiproc = tmp_path / "shared"
    multiproc.mkdir()
    (multiproc / "keep-me.txt").write_text("not ours")
    (multiproc / "gauge_livemax_999999.db").write_bytes(b"stale")
    (multiproc / "counter_999999.db").write_bytes(b"left over from an earlier run")

    with services.live_server(workers=1, METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(multiproc)) as server:
        response = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 200
        assert not (multiproc / "gauge_livemax_999999.db").exists()
        assert not (multiproc / "counter_999999.db").exists()
        assert (multiproc / "keep-me.txt").read_text() == "not ours"


def test_unverified_login_under_mandatory_verification_is_its_own_outcome_and_a_login_failed(db, settings):
    from apps.audit.models import SecurityEvent
    from tests.factories import UserFactory

    settings.EMAIL_VERIFICATION = "mandatory"
    unverified = UserFactory(email="unverified@example.com", email_verified=False)
    before = value("auth_logins_total", outcome="email_not_verified")

    response = APIClient().post("/api/auth/login/", {"email": unverified.email, "password": PASSWORD}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "email_not_verified")
    assert value("auth_logins_total", outcome="email_not_verified") == before + 1
    assert list(SecurityEvent.objects.filter(user_id=unverified.pk).values_list("type", flat=True)) == ["login_failed"]


# --- known label values at 0 from the start (contract: third release, "Events and metrics") ----
def known_series() -> list[tuple[str, dict[str, str]]]:
    from apps.core.metrics import KNOWN_LABEL_VALUES

    series = []
    for metric, labels in KNOWN_LABEL_VALUES.items():
        for values in itertools.product(*labels.values()):
            series.append((metric._name + "_total", dict(zip(labels, values, strict=True))))
    return series


def test_the_known_label_values_cover_every_value_the_code_counts():
    from apps.accounts.services.sessions import RevokeReason, _Outcome
    from apps.accounts.services.users import LOGIN_FAILURES
    from apps.core import metrics

    known = metrics.KNOWN_LABEL_VALUES
    assert set(known[metrics.auth_sessions_revoked_total]["reason"]) == {r.value for r in RevokeReason}
    assert set(known[metrics.auth_refresh_total]["outcome"]) == {o.value for o in _Outcome}
    assert set(known[metrics.auth_logins_total]["outcome"]) == {"success"} | {e.default_code for e in LOGIN_FAILURES}


def test_a_fresh_process_shows_every_known_label_value_at_0():
    script = "import django; django.setup(); from prometheus_client import generate_latest; print(generate_latest().decode())"
    env = {**{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    text = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env,
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout

    for name, labels in known_series():
        assert parse(text, name, **labels) == 0, (name, labels)
    assert "auth_refresh_total" in text and "auth_sessions_revoked_total" in text


def test_a_fresh_gunicorn_shows_every_known_label_value_at_0_before_any_request(tmp_path):
    with services.live_server(workers=2, METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom")) as server:
        response = requests.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    assert response.status_code == 200
    for name, labels in known_series():
        assert parse(response.text, name, **labels) == 0, (name, labels)
