"""Log injection (issue 23, item 5): a value a client controls (a request path with %0A or ESC,
an exception message quoting input) never starts a line of its own nor reaches the file as a
raw control character, in the text files and in the JSON lines alike. The escape is done by
the formatters, so it holds for every logger, whichever call site logged the value."""
from __future__ import annotations

import io
import json
import logging
import logging.config
import sys

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from config.logging import build_logging
from tests.core import logfiles

FORGED = "[ERROR] 2026-12-05 10:00:00,000 apps.security audit - - forged admin login"
# Percent-encoded as a client sends it: newline, a forged line, then ANSI "clear screen, red".
HOSTILE_PATH = "/api/auth/%0A" + FORGED.replace(" ", "%20") + "%1B[2J%1B[31m/"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture(params=["text", "json"])
def app_logging(request, tmp_path, monkeypatch):
    """The app's logging as production builds it, in LOG_FORMAT text or json (stdout captured)."""
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    log_dir = tmp_path / "logs"
    logging.config.dictConfig(build_logging(log_dir=log_dir, debug=False, log_format=request.param))
    stdout.log_dir, stdout.log_format = log_dir, request.param
    yield stdout
    monkeypatch.undo()
    logging.config.dictConfig(django_settings.LOGGING)


def _assert_no_forged_line(text: str) -> None:
    for line in text.splitlines():
        match = logfiles.LINE.match(line)
        assert match or line.startswith(("Traceback", "  ", "RuntimeError")), line
        assert not (match and match.group("logger") == "apps.security"), line
    assert "\x1b" not in text and "\r" not in text


def _json_entries(stdout: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_a_path_with_newline_and_esc_gives_one_escaped_access_line(app_logging, db):
    response = APIClient().get(HOSTILE_PATH, HTTP_X_REQUEST_ID="inject-1")

    assert response.status_code == 404
    info = logfiles.read("info.log", app_logging.log_dir)
    _assert_no_forged_line(info)
    (access,) = [line for line in info.splitlines() if " apps.access " in line and "forged admin login" in line]
    assert logfiles.LINE.match(access).group("request_id") == "inject-1"
    assert "/api/auth/\\n[ERROR] 2026-12-05" in access
    assert "\\x1b[2J\\x1b[31m/ 404" in access
    if app_logging.log_format == "json":
        (entry,) = [e for e in _json_entries(app_logging) if e["logger"] == "apps.access"]
        assert entry["message"] == access.split(" - ", 1)[1]  # the same escaped text as the file
        assert "\n" not in entry["message"] and "\x1b" not in entry["message"]


@pytest.mark.urls("tests.core.error_urls")
def test_an_exception_message_quoting_input_cannot_forge_lines_in_error_log(app_logging, db):
    response = APIClient().get("/api/test-boom/quoting/", {"q": f"\n{FORGED}\x1b[2J\r\u2028x"})

    assert response.status_code == 500
    errors = logfiles.read("error.log", app_logging.log_dir)
    _assert_no_forged_line(errors)
    (entry,) = [e for e in logfiles.entries("error.log", app_logging.log_dir) if "Traceback" in e]
    assert f"RuntimeError: refused value \\n{FORGED}\\x1b[2J\\r\\u2028x" in entry
    if app_logging.log_format == "json":
        (logged,) = [e for e in _json_entries(app_logging) if e.get("exception")]
        assert f"RuntimeError: refused value \\n{FORGED}\\x1b[2J\\r\\u2028x" in logged["exception"]


def test_redaction_still_masks_a_token_next_to_control_characters(app_logging, db):
    APIClient().get(f"/api/auth/%0A{TOKEN}%1B/")

    text = logfiles.read("info.log", app_logging.log_dir) + app_logging.getvalue()
    assert TOKEN not in text
    assert "\\n[REDACTED]\\x1b/ 404" in text


def test_plain_lines_are_unchanged(app_logging):
    logging.getLogger("apps.core.tests").info("café \\n stays %s", "as-is")

    (line,) = logfiles.read("info.log", app_logging.log_dir).splitlines()
    assert line.endswith(" - café \\n stays as-is")
