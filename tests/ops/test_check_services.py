"""`manage.py check_services`: one line per check, non-zero exit on any failure, and never a
credential in its output (run as a real process, as a pre-deploy step runs it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import devprocs as services

ROOT = Path(__file__).resolve().parents[2]
DB_PASSWORD = "dbS3cretPw"
REDIS_PASSWORD = "redisS3cretPw"
SMTP_PASSWORD = "smtpS3cretPw"


def run(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")},
        **services.PROD_LIKE_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "MAIL_DELIVERY_IN_WEB": "False",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check_services"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90,
    )


def lines(result) -> dict[str, str]:
    return {line.split()[1].rstrip(":"): line.split()[0] for line in result.stdout.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def migrated_db():
    with services.scratch_database_url(prefix="authsvc_check") as url:
        env = {**os.environ, **services.PROD_LIKE_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": url}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        yield url


def test_all_ok_with_a_migrated_database_and_nothing_optional(migrated_db, tmp_path):
    result = run(DATABASE_URL=migrated_db, LOG_DIR=str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result) == {"database": "ok", "migrations": "ok", "redis": "skip", "keys": "ok", "smtp": "skip"}


def test_redis_and_smtp_are_checked_when_configured(migrated_db, tmp_path):
    redis_url = services.shared_redis_url()
    with services.smtp_server() as smtp:
        result = run(DATABASE_URL=migrated_db, LOG_DIR=str(tmp_path), REDIS_URL=redis_url,
                     EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port), EMAIL_USE_TLS="False")

    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result) == {"database": "ok", "migrations": "ok", "redis": "ok", "keys": "ok", "smtp": "ok"}


def test_unapplied_migrations_fail(tmp_path):
    with services.scratch_database_url(prefix="authsvc_check_empty") as url:
        result = run(DATABASE_URL=url, LOG_DIR=str(tmp_path))

    assert result.returncode != 0
    assert lines(result)["migrations"] == "FAIL"
    assert "migrate" in result.stdout


def test_unreachable_dependencies_fail_without_printing_a_credential(tmp_path):
    closed = services.free_port()
    result = run(
        DATABASE_URL=f"postgres://app:{DB_PASSWORD}@127.0.0.1:{closed}/app",
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{closed}/0",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(closed), EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD=SMTP_PASSWORD, LOG_DIR=str(tmp_path),
    )

    assert result.returncode != 0
    assert lines(result) == {"database": "FAIL", "migrations": "FAIL", "redis": "FAIL", "keys": "ok", "smtp": "FAIL"}
    output = result.stdout + result.stderr
    for secret in (DB_PASSWORD, REDIS_PASSWORD, SMTP_PASSWORD, services.PROD_LIKE_ENV["SECRET_KEY"],
                   services.PROD_LIKE_ENV["JWT_SECRET_KEY"]):
        assert secret not in output
    assert "4 check(s) failed" in result.stderr


def test_keys_fail_when_debug_made_them_up(migrated_db, tmp_path):
    result = run(DATABASE_URL=migrated_db, LOG_DIR=str(tmp_path), DEBUG="True", SECRET_KEY="", JWT_SECRET_KEY="")

    assert result.returncode != 0
    assert lines(result)["keys"] == "FAIL"
    assert "SECRET_KEY and JWT_SECRET_KEY not set" in result.stdout
