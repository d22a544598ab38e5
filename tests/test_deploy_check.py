"""`manage.py check --deploy` is clean with a production environment of only the contract's
variables (DEBUG=False and the defaults secure): HTTPS redirect, HSTS, secure cookies, long
keys. Run in a subprocess so the real settings module is imported from scratch."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        # Only what a process needs to run, plus the contract's production variables.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.com",
        "LOG_DIR": str(tmp_path / "logs"),
        **overrides,
    }
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_with_no_warnings_in_a_production_environment(tmp_path):
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output and "security.W" not in output, output


def test_production_refuses_to_start_without_keys(tmp_path):
    # Empty rather than absent: a developer's .env (read after the environment) must not fill them.
    result = run_manage(production_env(tmp_path, SECRET_KEY="", JWT_SECRET_KEY=""), "check")

    assert result.returncode != 0
    assert "SECRET_KEY and JWT_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_jwt_key_equal_to_the_secret_key(tmp_path):
    key = secrets.token_urlsafe(64)

    result = run_manage(production_env(tmp_path, SECRET_KEY=key, JWT_SECRET_KEY=key), "check")

    assert result.returncode != 0
    assert "JWT_SECRET_KEY must differ from SECRET_KEY" in result.stderr
    assert key not in result.stderr
