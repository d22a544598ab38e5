"""Secrets never reach a log line or an error body (contract "Logs"; OWASP ASVS V7.1.1/V7.1.2):
unit tests of apps.core.logging.redact / RedactingFilter, then whole auth flows whose every
password, token, key and credential is searched for in every log file and response body."""
from __future__ import annotations

import io
import logging
import logging.config
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.core.logging import REDACTED, RedactingFilter, redact
from config.logging import LINE_FORMAT, build_logging
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6IjEifQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)


# --- redact() ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [f"token {JWT}", f"({JWT})", f"'{JWT}'", f"refresh={JWT}&x=1", f"[{JWT}]"],
    ids=["bare", "parenthesised", "quoted", "query", "list"],
)
def test_a_jwt_is_masked_wherever_it_appears(text):
    masked = redact(text)

    assert JWT not in masked
    assert JWT.split(".")[2] not in masked
    assert REDACTED in masked


@pytest.mark.parametrize(
    "text", ["Authorization: Bearer opaque-token-123", "authorization=bearer opaque-token-123", "HTTP_AUTHORIZATION='Bearer opaque-token-123'"]
)
def test_a_bearer_credential_is_masked_even_when_it_is_not_a_jwt(text):
    assert "opaque-token-123" not in redact(text)


@pytest.mark.parametrize(
    "text, secret",
    [
        ("password=hunter2-xyz next", "hunter2-xyz"),
        ("login?email=a@b.c&password=hunter2-xyz&x=1", "hunter2-xyz"),
        ('{"email": "a@b.c", "password": "hunter 2 xyz"}', "hunter 2 xyz"),
        ("{'old_password': 'old-pw-1', 'new_password': 'new-pw-2'}", "new-pw-2"),
        ("{'old_password': 'old-pw-1', 'new_password': 'new-pw-2'}", "old-pw-1"),
        ("EMAIL_HOST_PASSWORD=smtp-pw-3", "smtp-pw-3"),
        ("PASSWORD: 'caps-pw-4'", "caps-pw-4"),
        ("dsn='host=db user=svc password=libpq-pw-5 dbname=app'", "libpq-pw-5"),
        ("passwd=pw-6", "pw-6"),
        ("pwd=pw-7", "pw-7"),
        ('{"refresh": "opaque.refresh.value"}', "opaque.refresh.value"),
        ('{"access": "opaque-access", "token": "opaque-verify"}', "opaque-access"),
        ('{"access": "opaque-access", "token": "opaque-verify"}', "opaque-verify"),
        ("secret_key=abcdefgh12345", "abcdefgh12345"),
        ("JWT_SECRET_KEY = 'abcdefgh12345'", "abcdefgh12345"),
        ("api_key=k-123456", "k-123456"),
    ],
)
def test_secret_looking_fields_are_masked_in_queries_json_and_reprs(text, secret):
    masked = redact(text)

    assert secret not in masked, masked
    assert REDACTED in masked


@pytest.mark.parametrize(
    "url, secret, kept",
    [
        ("postgres://u:pw-db-1@h/db", "pw-db-1", "postgres://u:"),
        ("postgresql://svc:p%40ss%2Fw0rd@db.internal:5432/app?sslmode=require", "p%40ss%2Fw0rd", "@db.internal:5432/app"),
        ("postgres://svc:raw@at@sign@db:5432/app", "raw@at@sign", "@db:5432/app"),
        ("redis://:redis-pw-2@cache:6379/0", "redis-pw-2", "redis://:"),
        ("rediss://default:redis-pw-3@cache.example.com:6380", "redis-pw-3", "@cache.example.com:6380"),
        ("amqp://guest:amqp-pw-4@mq//", "amqp-pw-4", "amqp://guest:"),
        ("could not connect to DATABASE_URL=postgres://u:pw-db-5@h/db (timeout)", "pw-db-5", "(timeout)"),
    ],
)
def test_credentials_in_urls_are_masked_keeping_scheme_user_and_host(url, secret, kept):
    masked = redact(url)

    assert secret not in masked, masked
    assert REDACTED in masked
    assert kept in masked


def test_the_configured_secret_key_and_jwt_secret_key_are_masked_verbatim(settings):
    text = f"settings: {settings.SECRET_KEY} / {settings.JWT_SECRET_KEY}"

    masked = redact(text)

    assert settings.SECRET_KEY not in masked
    assert settings.JWT_SECRET_KEY not in masked
    assert masked.count(REDACTED) == 2


@pytest.mark.parametrize(
    "line",
    [
        "POST /api/auth/login/ 401 12.3ms",
        "Login failed from 127.0.0.1: invalid_credentials",
        "Session 3f1c6a2e-8f41-4c55-9d0e-2b8f3c1a9e77 of user 9a7b rotated",
        "Registered user owner@acme.io (tenant None)",
        "Redis unavailable (ConnectionError); using the database only, retrying in 5s",
        "GET https://example.com/api/docs/ 200",
    ],
)
def test_ordinary_log_lines_are_left_alone(line):
    assert redact(line) == line


# --- RedactingFilter --------------------------------------------------------------------------
def _format(record: logging.LogRecord) -> str:
    record.request_id = "-"
    assert RedactingFilter().filter(record)
    return logging.Formatter(LINE_FORMAT).format(record)


def _record(msg: str, *args, exc_info=None, stack_info=None) -> logging.LogRecord:
    return logging.LogRecord("apps.test", logging.ERROR, __file__, 1, msg, args, exc_info, "fn", stack_info)


def test_a_secret_passed_as_a_log_argument_is_masked():
    line = _format(_record("refresh failed for %s with %r", JWT, {"password": "arg-pw-1"}))

    assert JWT not in line
    assert "arg-pw-1" not in line
    assert "refresh failed for" in line


def test_exception_text_and_traceback_with_a_secret_are_masked():
    try:
        try:
            raise OperationalError("connection to postgres://svc:cause-pw-9@db/app failed")
        except OperationalError as cause:
            raise RuntimeError(f"boom password=exc-pw-1 token={JWT}") from cause
    except RuntimeError:
        line = _format(_record("Unhandled error", exc_info=sys.exc_info()))

    assert "Traceback" in line and "RuntimeError" in line
    for secret in ("exc-pw-1", JWT, "cause-pw-9"):
        assert secret not in line


def test_stack_info_with_a_secret_is_masked():
    line = _format(_record("here", stack_info=f"Stack (most recent call last):\n  token={JWT}"))

    assert JWT not in line


def test_a_record_seen_by_several_handlers_stays_masked_and_intact():
    record = _record("password=%s", "multi-pw-1")

    first, second = _format(record), _format(record)

    assert first == second
    assert "multi-pw-1" not in second


def test_a_broken_format_string_still_logs_a_masked_line():
    line = _format(_record("broken %d format", f"password=broken-pw-1 {JWT}"))

    assert "broken" in line
    assert "broken-pw-1" not in line and JWT not in line


def test_the_production_logging_config_redacts_on_every_handler(tmp_path):
    config = build_logging(log_dir=tmp_path, debug=True, to_stdout=True)

    for name, handler in config["handlers"].items():
        assert "redact" in handler["filters"], name


# --- End to end: whole flows, every log file, every response body ------------------------------
DB_PASSWORD = f"db-pw-{uuid.uuid4().hex}"
REDIS_PASSWORD = f"redis-pw-{uuid.uuid4().hex}"
LEAKY_PASSWORD = f"view-pw-{uuid.uuid4().hex}"


def _leaky_message() -> str:
    return (
        f"cannot reach the database: password={LEAKY_PASSWORD}; "
        f"dsn=postgres://svc:{DB_PASSWORD}@db.internal:5432/app; "
        f"cache=redis://:{REDIS_PASSWORD}@cache.internal:6379/0; "
        f"keys {django_settings.SECRET_KEY} {django_settings.JWT_SECRET_KEY}"
    )


def _raise_leaky() -> None:
    try:
        raise OperationalError(f"FATAL: could not connect to postgres://svc:{DB_PASSWORD}@db.internal/app")
    except OperationalError as cause:
        raise RuntimeError(_leaky_message()) from cause


def plain_view_that_leaks(request):
    _raise_leaky()


class DrfViewThatLeaks(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        _raise_leaky()


urlpatterns = [
    path("api/test-leak/plain/", plain_view_that_leaks),
    path("api/test-leak/drf/", DrfViewThatLeaks.as_view()),
    *app_urlpatterns,
]


@pytest.fixture
def debug_logging(tmp_path, settings):
    """Production's logging config with DEBUG on (so debug.log is written too), in a fresh
    LOG_DIR; the app's own logging is restored afterwards."""
    log_dir = tmp_path / "logs"
    logging.config.dictConfig(build_logging(log_dir=log_dir, debug=True))
    settings.LOG_DIR = log_dir
    yield log_dir
    logging.config.dictConfig(django_settings.LOGGING)


class Recorder:
    """An API client that keeps every response body and every token it was given."""

    def __init__(self) -> None:
        self.client = APIClient(raise_request_exception=False)
        self.bodies: list[bytes] = []
        self.error_bodies: list[bytes] = []
        self.tokens: set[str] = set()

    def call(self, method: str, url: str, data=None, *, access: str | None = None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"} if access else {}
        response = getattr(self.client, method)(url, data, format="json", **headers, **extra)
        self.bodies.append(response.content)
        if response.status_code >= 400:
            self.error_bodies.append(response.content)
        if response.get("Content-Type", "").startswith("application/json") and response.content:
            body = response.json()
            if isinstance(body, dict):
                self.tokens.update(v for k, v in body.items() if k in ("access", "refresh") and isinstance(v, str))
        return response


@pytest.mark.urls(__name__)
def test_no_secret_from_a_full_auth_session_reaches_logs_or_response_bodies(db, debug_logging, settings, clock):
    settings.THROTTLE_ENABLED = False
    first_password = f"First-{uuid.uuid4().hex}"
    second_password = f"Second-{uuid.uuid4().hex}"
    wrong_password = f"Wrong-{uuid.uuid4().hex}"
    email = f"leak-{uuid.uuid4().hex[:8]}@example.com"
    api = Recorder()

    registered = api.call("post", "/api/auth/register/", {"email": email, "password": first_password, "tenant_name": "Leak Test"}).json()
    assert api.call("post", "/api/auth/login/", {"email": email, "password": wrong_password}).status_code == 401
    assert api.call("post", "/api/auth/register/", {"email": "x@example.com", "password": "short"}).status_code == 400
    login = api.call("post", "/api/auth/login/", {"email": email, "password": first_password}).json()
    rotated = api.call("post", "/api/auth/refresh/", {"refresh": login["refresh"]}).json()
    assert api.call("post", "/api/auth/verify/", {"token": rotated["access"]}).status_code == 200
    assert api.call("get", f"/api/auth/me/?access_token={rotated['access']}&password={first_password}").status_code == 401
    clock.advance(seconds=settings.REFRESH_REUSE_GRACE_SECONDS + 1)
    reuse = api.call("post", "/api/auth/refresh/", {"refresh": login["refresh"]})
    assert reuse.json()["code"] == "token_not_valid"  # reuse attack: the session is revoked
    second = api.call("post", "/api/auth/login/", {"email": email, "password": first_password}).json()
    assert api.call("post", "/api/auth/logout/", {"refresh": second["refresh"]}, access=second["access"]).status_code == 205
    third = api.call("post", "/api/auth/login/", {"email": email, "password": first_password}).json()
    changed = api.call(
        "post", "/api/auth/password/change/", {"old_password": first_password, "new_password": second_password},
        access=third["access"],
    ).json()
    assert api.call("post", "/api/auth/password/change/", {"old_password": wrong_password, "new_password": second_password}, access=changed["access"]).status_code == 400
    assert api.call("get", "/api/auth/me/", access=registered["access"]).status_code == 401  # revoked
    assert api.call("post", "/api/auth/logout-all/", access=changed["access"]).status_code == 200
    for debug_errors in (False, True):
        settings.DEBUG_ERRORS = debug_errors
        for url in ("/api/test-leak/plain/", "/api/test-leak/drf/"):
            response = api.call("get", url)
            assert (response.status_code, response.json()["code"]) == (500, "server_error")
    assert "exception" in response.json() and REDACTED in response.json()["exception"]

    logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in Path(debug_logging).glob("*.log*")}
    assert {"error.log", "info.log", "debug.log"} <= set(logs)
    assert "RuntimeError" in logs["error.log"] and "Refresh token reuse detected" in logs["info.log"]
    assert len(api.tokens) >= 8
    secrets = {
        "first password": first_password,
        "second password": second_password,
        "wrong password": wrong_password,
        "leaky view password": LEAKY_PASSWORD,
        "db password": DB_PASSWORD,
        "redis password": REDIS_PASSWORD,
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SECRET_KEY": settings.JWT_SECRET_KEY,
    }
    for n, token in enumerate(sorted(api.tokens)):
        secrets[f"token {n}"] = token
        secrets[f"token {n} signature"] = token.split(".")[2]

    for name, secret in secrets.items():
        for log_name, text in logs.items():
            assert secret not in text, f"{name} found in {log_name}"
        for body in api.error_bodies:
            assert secret.encode() not in body, f"{name} found in an error body: {body[:200]!r}"
        if "token" not in name:  # tokens are what the success bodies are for
            for body in api.bodies:
                assert secret.encode() not in body, f"{name} found in a response body"


def test_stdout_logging_is_redacted_too(tmp_path, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    logging.config.dictConfig(build_logging(log_dir=tmp_path, debug=False, to_stdout=True))
    try:
        logging.getLogger("apps.test").warning("Bearer %s password=%s", JWT, "stdout-pw-1")
    finally:
        logging.config.dictConfig(django_settings.LOGGING)

    out = stream.getvalue()
    assert "Bearer" in out
    assert JWT not in out and "stdout-pw-1" not in out
