"""Every 4xx/5xx under /api/ and /health is JSON {"detail", "code"}: the contract's Errors section."""
from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from django.test import Client

from tests.core import logfiles
from tests.core.error_urls import EXPLOSION

BOOM_URLS = "tests.core.error_urls"


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def client_no_raise():
    """A client that returns the 500 response instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


# --- 404 / 405 / 400 ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/nope/", "/api/auth/does-not-exist/", "/api/tenants/x/y/", "/health/nope"])
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_and_health_paths_answer_json_404(api_client, settings, path, debug):
    settings.DEBUG = debug
    assert_json_error(api_client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/nope/", "/api/auth/login/extra/"])
def test_post_to_unknown_api_path_answers_json_404_not_a_csrf_page(path, db):
    client = Client(enforce_csrf_checks=True)  # like a real client: no CSRF cookie or token
    assert_json_error(client.post(path, data="{}", content_type="application/json"), 404, "not_found")


def test_request_with_unknown_host_header_answers_json_400(api_client):
    assert_json_error(api_client.get("/api/auth/me/", HTTP_HOST="evil.example"), 400, "bad_request")


def test_get_on_a_post_only_endpoint_answers_json_405(api_client, db):
    body = assert_json_error(api_client.get("/api/auth/login/"), 405, "method_not_allowed")
    assert "GET" in body["detail"]


def test_malformed_json_body_answers_json_400(api_client, db):
    response = api_client.post("/api/auth/login/", data='{"email": "a@b.c", ', content_type="application/json")
    assert_json_error(response, 400, "parse_error")


def test_validation_error_answers_invalid_with_field_errors(api_client, db):
    response = api_client.post("/api/auth/login/", {"email": "not-an-email"}, format="json")
    body = assert_json_error(response, 400, "invalid")
    assert set(body["errors"]) >= {"password"}


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"text"'])
def test_json_body_that_is_not_an_object_answers_invalid(api_client, db, body):
    response = api_client.post("/api/auth/login/", data=body, content_type="application/json")
    assert_json_error(response, 400, "invalid")


def test_non_json_content_type_answers_json_415(api_client, db):
    response = api_client.post("/api/auth/login/", data="email=a@b.c", content_type="application/x-www-form-urlencoded")
    assert_json_error(response, 415, "unsupported_media_type")


def test_oversized_body_answers_json_413(api_client, db, settings):
    body = '{"email": "a@b.c", "password": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
    response = api_client.post("/api/auth/login/", data=body, content_type="application/json")
    assert_json_error(response, 413, "request_too_large")


# --- 500 ------------------------------------------------------------------------------------
@pytest.mark.urls(BOOM_URLS)
@pytest.mark.parametrize("path", ["/api/test-boom/plain/", "/api/test-boom/drf/", "/health/test-boom/"])
def test_unhandled_exception_answers_generic_json_500_without_exception_text(client_no_raise, settings, path):
    settings.DEBUG_ERRORS = False
    response = client_no_raise.get(path, HTTP_X_REQUEST_ID="boom-generic-1")
    body = assert_json_error(response, 500, "server_error")
    assert body == {"detail": "Internal server error", "code": "server_error", "request_id": "boom-generic-1"}
    assert b"kaboom" not in response.content
    assert b"Traceback" not in response.content


@pytest.mark.urls(BOOM_URLS)
def test_unhandled_exception_answers_json_500_even_when_debug_is_on(client_no_raise, settings):
    settings.DEBUG = True
    settings.DEBUG_ERRORS = False
    response = client_no_raise.get("/api/test-boom/plain/")
    body = assert_json_error(response, 500, "server_error")
    assert body["request_id"] == response["X-Request-ID"]
    assert b"kaboom" not in response.content


@pytest.mark.urls(BOOM_URLS)
@pytest.mark.parametrize("path", ["/api/test-boom/plain/", "/api/test-boom/drf/"])
def test_debug_errors_puts_exception_text_in_the_500_body(client_no_raise, settings, path):
    settings.DEBUG_ERRORS = True
    body = assert_json_error(client_no_raise.get(path), 500, "server_error")
    assert body["detail"] == "Internal server error"
    assert EXPLOSION in body["exception"]


@pytest.mark.urls(BOOM_URLS)
@pytest.mark.parametrize("path", ["/api/test-boom/plain/", "/api/test-boom/drf/"])
@pytest.mark.parametrize("debug_errors", [False, True])
def test_unhandled_exception_traceback_goes_to_error_log(client_no_raise, settings, path, debug_errors):
    settings.DEBUG_ERRORS = debug_errors
    rid = f"boom-{uuid.uuid4().hex}"
    client_no_raise.get(path, HTTP_X_REQUEST_ID=rid)

    logged = logfiles.entries_containing(rid, "error.log")
    with_traceback = [e for e in logged if "Traceback (most recent call last)" in e]
    assert len(with_traceback) == 1, logged
    assert f"RuntimeError: {EXPLOSION}" in with_traceback[0]
    assert logfiles.LINE.match(with_traceback[0].splitlines()[0]).group("level") == "ERROR"


# --- 503: database unreachable (real gunicorn, real closed port) -----------------------------


@pytest.mark.live
def test_drf_endpoint_answers_json_503_when_database_is_unreachable(server_without_database):
    response = requests.post(
        f"{server_without_database.url}/api/auth/login/",
        json={"email": "someone@example.com", "password": "Whatever-123!"}, timeout=15,
    )
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["detail"]
    # The request id is random hex: take it out before looking for the port's digits in it.
    text = response.text.replace(body.get("request_id") or "\0", "")
    assert "dbs3cretpw" not in text
    assert "5432" not in text and "postgres" not in text.lower()


@pytest.mark.live
def test_database_outage_is_logged_with_request_id_and_without_the_password(server_without_database):
    rid = f"db-down-{uuid.uuid4().hex}"
    requests.post(f"{server_without_database.url}/api/auth/register/", headers={"X-Request-ID": rid},
                  json={"email": "x@example.com", "password": "Whatever-123!"}, timeout=15)
    logs = server_without_database.read_logs()
    assert f"{rid} - Database unavailable" in logs  # the cause is logged, with the request's id
    assert "dbs3cretpw" not in logs


@pytest.mark.live
def test_authenticated_endpoint_answers_json_503_when_database_is_unreachable(server_without_database):
    now = int(time.time())
    access = jwt.encode(
        {"token_type": "access", "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex,
         "user_id": str(uuid.uuid4()), "iss": "authsvc", "aud": "authsvc-api"},
        server_without_database.env["JWT_SECRET_KEY"], algorithm="HS256",
    )
    response = requests.get(
        f"{server_without_database.url}/api/auth/me/", headers={"Authorization": f"Bearer {access}"}, timeout=15,
    )
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert response.headers["X-Request-ID"]
