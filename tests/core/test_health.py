"""/health and /health/live: what a platform's health checker and ops see."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests
from django.test import Client, RequestFactory

import devprocs as services
from tests.core import logfiles


def assert_iso_utc_now(timestamp: str) -> None:
    moment = datetime.fromisoformat(timestamp)
    assert moment.utcoffset() == timedelta(0), timestamp
    assert abs(datetime.now(tz=UTC) - moment) < timedelta(seconds=30)


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_is_healthy_with_database_and_no_redis_configured(api_client, db, no_redis, path):
    response = api_client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"] == "connected"
    assert body["cache"] == "unavailable"  # none configured: the app runs on its database alone
    assert body["version"]
    assert_iso_utc_now(body["timestamp"])


@pytest.mark.redis
@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_is_healthy_with_database_and_redis(api_client, db, use_redis, shared_redis_url, path):
    use_redis(shared_redis_url)
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() | {"version": None, "timestamp": None} == {
        "status": "healthy", "database": "connected", "cache": "connected", "version": None, "timestamp": None,
    }


@pytest.mark.redis
def test_health_reports_cache_connected_with_a_private_redis(api_client, db, use_redis, redis_server):
    use_redis(redis_server.url)
    assert api_client.get("/health").json()["cache"] == "connected"


def test_health_is_degraded_not_failing_when_redis_port_is_closed(api_client, db, use_redis):
    use_redis(f"redis://127.0.0.1:{services.free_port()}/0")
    started = time.monotonic()
    response = api_client.get("/health")
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["cache"]) == ("degraded", "connected", "unavailable")


def test_health_is_degraded_within_two_seconds_when_redis_never_answers(api_client, db, use_redis):
    with services.black_hole() as port:
        use_redis(f"redis://127.0.0.1:{port}/0")
        started = time.monotonic()
        response = api_client.get("/health")
        elapsed = time.monotonic() - started
    assert elapsed < 2, f"/health took {elapsed:.2f}s with a hung Redis"
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cache"]) == ("degraded", "unavailable")


@pytest.mark.redis
def test_health_recovers_to_healthy_when_redis_comes_back(api_client, db, use_redis, redis_server):
    use_redis(redis_server.url)
    redis_server.stop()
    assert api_client.get("/health").json()["status"] == "degraded"
    redis_server.start()
    deadline = time.monotonic() + 5  # the breaker's cool-down is 0.5 s under use_redis
    while time.monotonic() < deadline and api_client.get("/health").json()["status"] != "healthy":
        time.sleep(0.1)
    assert api_client.get("/health").json()["status"] == "healthy"


def test_health_never_shows_the_redis_url_or_password(api_client, db, use_redis):
    tail = logfiles.Tail()
    use_redis(f"redis://:s3cretpw@127.0.0.1:{services.free_port()}/0")
    response = api_client.get("/health")
    assert response.json()["cache"] == "unavailable"
    assert b"s3cretpw" not in response.content
    assert b"redis://" not in response.content
    assert not [line for line in tail.entries() if "s3cretpw" in line]


def test_health_never_shows_the_database_settings(api_client, db, settings):
    content = api_client.get("/health").content.decode()
    database = settings.DATABASES["default"]
    for value in (database.get("PASSWORD"), database.get("HOST"), str(database.get("NAME"))):
        if value:
            assert value not in content


def test_health_answers_head_requests(api_client, db):
    assert api_client.head("/health").status_code == 200
    assert api_client.head("/health/live").status_code == 200


def test_liveness_answers_alive(api_client, db):
    response = api_client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert api_client.get("/health/live/").json() == {"status": "alive"}


@pytest.mark.parametrize("path", ["/health", "/health/", "/health/live"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_writing_to_health_answers_json_405(db, path, method):
    client = Client(enforce_csrf_checks=True)  # a real client sends no CSRF token
    response = getattr(client, method)(path, data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/health", "/health/live"])
def test_health_responses_carry_exactly_djangos_never_cache_headers(api_client, db, path):
    from django.http import HttpResponse
    from django.views.decorators.cache import never_cache

    expected = never_cache(lambda request: HttpResponse())(RequestFactory().get(path))
    response = api_client.get(path)
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert abs(parsedate_to_datetime(response["Expires"]) - parsedate_to_datetime(expected["Expires"])) < timedelta(seconds=5)


@pytest.mark.parametrize("path", ["/health", "/health/", "/health/live", "/health/live/"])
def test_health_is_not_redirected_to_https(db, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(path)  # a new client builds the middleware with the new setting
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/auth/me/", "/api/docs/", "/admin/", "/healthz"])
def test_other_paths_are_redirected_to_https(db, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(path)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


# --- Database down: the real app under gunicorn, pointed at a closed port ---------------------


@pytest.mark.live
def test_health_answers_503_unhealthy_when_database_is_unreachable(server_without_database):
    started = time.monotonic()
    response = requests.get(f"{server_without_database.url}/health", timeout=15)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["database"] == "unavailable"
    assert body["code"] == "service_unavailable"
    assert body["detail"]
    assert_iso_utc_now(body["timestamp"])
    assert "dbs3cretpw" not in response.text and "postgres" not in response.text.lower()


@pytest.mark.live
def test_liveness_answers_alive_while_database_is_unreachable(server_without_database):
    response = requests.get(f"{server_without_database.url}/health/live", timeout=15)
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


@pytest.mark.live
def test_health_answers_503_within_the_connect_timeout_when_database_never_answers():
    with services.black_hole() as port:
        url = f"postgres://authsvc:dbs3cretpw@127.0.0.1:{port}/authsvc"
        with services.live_server(DATABASE_URL=url, migrate=False, workers=1, DB_CONNECT_TIMEOUT="1") as server:
            started = time.monotonic()
            response = requests.get(f"{server.url}/health", timeout=15)
            elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    # libpq rounds a 1 s connect_timeout up to 2 s; without it the worker would hang for minutes.
    assert elapsed < 5, f"/health took {elapsed:.1f}s with a hung database (DB_CONNECT_TIMEOUT=1)"


def test_health_answers_a_platform_checker_that_sends_an_unlisted_host(client, settings, db):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    for path in ("/health", "/health/live"):
        response = client.get(path, HTTP_HOST="10.0.0.7:8000")
        assert response.status_code == 200, (path, response.content)
    assert client.get("/api/auth/me/", HTTP_HOST="10.0.0.7:8000").status_code == 400


@pytest.mark.live
def test_health_is_healthy_after_its_persistent_database_connection_was_killed():
    """/health runs one SELECT 1 (no separate Django connection check before it); a dead
    persistent connection is replaced, as CONN_HEALTH_CHECKS would do, not reported down."""
    if not services.using_postgres():
        pytest.skip("needs PostgreSQL (a server-side backend to terminate)")
    with services.live_server(workers=1, HEALTH_CHECK_CACHE_SECONDS="0") as server:  # probe every time
        assert requests.get(f"{server.url}/health", timeout=15).json()["database"] == "connected"
        assert services.terminate_connections(server.env["DATABASE_URL"]) >= 1  # the worker's persistent one
        response = requests.get(f"{server.url}/health", timeout=15)
    assert response.status_code == 200, response.text
    assert response.json()["database"] == "connected"


# --- Probe reuse: HEALTH_CHECK_CACHE_SECONDS ---------------------------------------------------
# transactional_db: a failed probe closes the connection, which must not be a test transaction's.


def test_health_reuses_its_probe_within_the_interval_and_asks_again_after_it(api_client, transactional_db, settings, monkeypatch):
    from apps.core import health

    settings.HEALTH_CHECK_CACHE_SECONDS = 0.3
    first = api_client.get("/health")
    assert first.status_code == 200 and first.json()["status"] == "healthy"

    def database_down() -> None:
        raise health.DatabaseError("connection refused")

    monkeypatch.setattr(health, "_select_one", database_down)
    within = api_client.get("/health")
    assert within.status_code == 200  # the probe of 0.3 s ago still stands
    assert within.json()["timestamp"] == first.json()["timestamp"]  # and says when it was taken

    time.sleep(0.35)
    after = api_client.get("/health")
    assert after.status_code == 503
    assert after.json()["status"] == "unhealthy"
    monkeypatch.undo()
    assert api_client.get("/health").status_code == 503  # the failure is reused too...
    time.sleep(0.35)
    assert api_client.get("/health").status_code == 200  # ...until the next probe


def test_health_with_interval_zero_asks_the_dependencies_on_every_request(api_client, transactional_db, settings, monkeypatch):
    from apps.core import health

    settings.HEALTH_CHECK_CACHE_SECONDS = 0
    assert api_client.get("/health").status_code == 200
    monkeypatch.setattr(health, "_select_one", lambda: (_ for _ in ()).throw(health.DatabaseError("down")))
    assert api_client.get("/health").status_code == 503

