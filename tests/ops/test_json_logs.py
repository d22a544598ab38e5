"""LOG_FORMAT=json: one JSON object per stdout line (level, time, logger, request_id,
message, exception), secrets redacted; files keep the text format; log files exist at start."""
from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from rest_framework.test import APIClient

import devprocs as services
from config.logging import build_logging
from tests.core import logfiles

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def json_logging(tmp_path, monkeypatch):
    """The app's logging with LOG_FORMAT=json, stdout captured; restored afterwards."""
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    log_dir = tmp_path / "logs"
    logging.config.dictConfig(build_logging(log_dir=log_dir, debug=False, log_format="json"))
    stdout.log_dir = log_dir
    yield stdout
    monkeypatch.undo()
    logging.config.dictConfig(django_settings.LOGGING)


def json_lines(stdout: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stdout.getvalue().splitlines() if line.strip()]


def test_each_line_is_one_json_object_with_the_contract_fields(json_logging):
    logging.getLogger("apps.ops.test").info("hello %s", "world")

    (entry,) = json_lines(json_logging)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "apps.ops.test"
    assert entry["message"] == "hello world"
    assert entry["request_id"] is None  # outside a request
    stamp = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert stamp.utcoffset().total_seconds() == 0


def test_errors_carry_the_exception_text_on_the_same_line(json_logging):
    try:
        raise ValueError("boom in the service")
    except ValueError:
        logging.getLogger("apps.ops.test").exception("it failed")

    lines = json_logging.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR"
    assert "ValueError: boom in the service" in entry["exception"]
    assert "Traceback" in entry["exception"]


def test_secrets_are_redacted_in_message_exception_and_extras(json_logging):
    log = logging.getLogger("apps.ops.test")
    try:
        raise RuntimeError(f"cannot reach postgres://app:hunter2pw@db:5432/x with {TOKEN}")
    except RuntimeError:
        log.exception("password=%s token %s", "s3cr3t-pass", TOKEN, extra={"dsn": "redis://u:redispw@h:6379/0"})
    log.info("key is %s", django_settings.JWT_SECRET_KEY)

    text = json_logging.getvalue()
    for secret in ("hunter2pw", TOKEN, "s3cr3t-pass", "redispw", django_settings.JWT_SECRET_KEY):
        assert secret not in text
    assert all(isinstance(e, dict) for e in json_lines(json_logging))


def test_django_request_extra_is_not_dumped(json_logging):
    class FakeRequest:
        request_id = "rid-123"

        def __repr__(self):
            return f"<WSGIRequest: GET '/api/x?refresh={TOKEN}'>"

    logging.getLogger("django.request").warning("Unauthorized: %s", "/api/x", extra={"request": FakeRequest(), "status_code": 401})

    (entry,) = json_lines(json_logging)
    assert entry["request_id"] == "rid-123"
    assert entry["status_code"] == 401
    assert "request" not in entry and TOKEN not in json_logging.getvalue()


def test_files_keep_the_text_format(json_logging):
    logging.getLogger("apps.ops.test").warning("to the file")
    for handler in logging.getLogger().handlers:
        handler.flush()

    (line,) = logfiles.read("info.log", json_logging.log_dir).splitlines()
    assert logfiles.LINE.match(line)


def test_a_request_logs_json_lines_carrying_its_request_id(json_logging, db):
    response = APIClient().get("/api/auth/me/", HTTP_X_REQUEST_ID="json-req-1")

    assert response.status_code == 401
    entries = [e for e in json_lines(json_logging) if e["request_id"] == "json-req-1"]
    assert any(e["logger"] == "apps.access" and "/api/auth/me/ 401" in e["message"] for e in entries)


def test_build_logging_creates_error_and_info_log_at_once(tmp_path):
    build_logging(log_dir=tmp_path / "fresh", debug=False)

    assert (tmp_path / "fresh" / "error.log").read_text() == ""
    assert (tmp_path / "fresh" / "info.log").exists()
    assert not (tmp_path / "fresh" / "debug.log").exists()


def test_an_unknown_log_format_refuses_to_start(tmp_path):
    env = {**services.PROD_LIKE_ENV, "PATH": "/usr/bin:/bin", "LOG_DIR": str(tmp_path), "LOG_FORMAT": "xml",
           "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


# --- live: gunicorn with LOG_FORMAT=json ------------------------------------------------------
def test_gunicorn_with_json_logs_writes_json_to_stdout_and_has_log_files_from_start(tmp_path):
    stdout_path = tmp_path / "stdout.txt"
    with services.live_server(workers=2, LOG_FORMAT="json", stdout_path=str(stdout_path)) as server:
        log_dir = Path(server.log_dir)
        # Before any request: both files are there, error.log empty.
        assert (log_dir / "error.log").read_text() == ""
        assert (log_dir / "info.log").exists()
        response = requests.get(f"{server.url}/api/auth/me/", headers={"X-Request-ID": "live-json-1"}, timeout=10)
        assert response.status_code == 401
        assert services.wait_until(lambda: "live-json-1" in stdout_path.read_text(), timeout=10)
        gunicorn_lines = (log_dir / "gunicorn.err").read_text().splitlines()

    entries = [json.loads(line) for line in stdout_path.read_text().splitlines() if line.strip()]
    # gunicorn's own log lines (stderr) are JSON objects too (raw writes such as Python
    # warnings are not log lines and stay as they are).
    booted = [json.loads(line) for line in gunicorn_lines if line.startswith("{")]
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in booted)
    access = [e for e in entries if e["request_id"] == "live-json-1" and e["logger"] == "apps.access"]
    assert access and "GET /api/auth/me/ 401" in access[0]["message"]
    assert all(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", e["time"]) for e in entries)
