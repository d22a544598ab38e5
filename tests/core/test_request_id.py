"""X-Request-ID: echoed when sane, generated otherwise, and on every log line of the request."""
from __future__ import annotations

import re
import uuid

import pytest

from tests.core import logfiles

SANE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@pytest.mark.parametrize("sent", ["abc", "a", "A-b_c.9", "x" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"])
def test_sane_request_id_is_echoed(api_client, db, sent):
    response = api_client.get("/health/live", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 129, "has space", "semi;colon", "<script>", "new\nline", "caf\u00e9", "slash/es", "a,b"],
)
def test_insane_request_id_is_replaced_by_a_generated_one(api_client, db, sent):
    response = api_client.get("/health/live", HTTP_X_REQUEST_ID=sent)
    generated = response["X-Request-ID"]
    assert generated != sent
    assert SANE.match(generated)


def test_request_without_id_gets_a_fresh_one_each_time(api_client, db):
    first = api_client.get("/health/live")["X-Request-ID"]
    second = api_client.get("/health/live")["X-Request-ID"]
    assert SANE.match(first) and SANE.match(second)
    assert first != second


@pytest.mark.parametrize(
    "path",
    ["/api/auth/me/", "/api/nope/", "/api/auth/login/", "/api/schema/", "/health", "/health/live", "/admin/",
     "/admin/login/"],
)
def test_every_api_health_and_admin_response_carries_request_id(api_client, db, path):
    response = api_client.get(path, HTTP_X_REQUEST_ID="rid-on-every-response")
    assert response["X-Request-ID"] == "rid-on-every-response"


def test_generated_request_id_is_the_one_on_the_log_lines(api_client, db):
    tail = logfiles.Tail()
    response = api_client.get("/api/auth/me/")
    lines = tail.entries()
    assert lines
    assert {logfiles.LINE.match(line).group("request_id") for line in lines} == {response["X-Request-ID"]}


def test_every_log_line_of_a_404_carries_its_request_id_including_django_request(api_client, db):
    rid = f"rid-{uuid.uuid4().hex}"
    tail = logfiles.Tail()
    api_client.get(f"/api/missing-{uuid.uuid4().hex}/", HTTP_X_REQUEST_ID=rid)

    lines = tail.entries()
    loggers = {logfiles.LINE.match(line).group("logger") for line in lines}
    assert {"django.request", "apps.access"} <= loggers  # Django's "Not Found: ..." and ours
    for line in lines:
        assert logfiles.LINE.match(line).group("request_id") == rid, line


def test_every_log_line_of_a_failed_login_carries_its_request_id(api_client, user):
    rid = f"rid-{uuid.uuid4().hex}"
    tail = logfiles.Tail()
    response = api_client.post(
        "/api/auth/login/", {"email": user.email, "password": "wrong-password-1"}, format="json",
        HTTP_X_REQUEST_ID=rid,
    )
    assert response.status_code == 401

    lines = tail.entries()
    messages = [logfiles.LINE.match(line).group("message") for line in lines]
    assert any(m.startswith("Unauthorized: /api/auth/login/") for m in messages), messages  # django.request
    assert any(m.startswith("POST /api/auth/login/ 401 ") for m in messages), messages  # access line
    assert len(lines) >= 3  # and the service's own lines
    for line in lines:
        assert logfiles.LINE.match(line).group("request_id") == rid, line


def test_access_line_of_an_api_request_names_method_path_status_and_duration(api_client, db):
    rid = f"rid-{uuid.uuid4().hex}"
    api_client.get("/api/auth/me/", HTTP_X_REQUEST_ID=rid)

    access = [line for line in logfiles.entries_containing(rid) if " apps.access " in line]
    assert len(access) == 1
    match = logfiles.LINE.match(access[0])
    assert match.group("level") == "INFO"
    assert re.fullmatch(r"GET /api/auth/me/ 401 \d+\.\dms", match.group("message"))


def test_lines_logged_after_a_request_do_not_carry_its_id(api_client, db):
    import logging

    rid = f"rid-{uuid.uuid4().hex}"
    api_client.get("/health/live", HTTP_X_REQUEST_ID=rid)
    marker = f"between-requests-{uuid.uuid4().hex}"
    logging.getLogger("apps.core").warning(marker)

    (line,) = logfiles.entries_containing(marker)
    assert logfiles.LINE.match(line).group("request_id") == "-"
