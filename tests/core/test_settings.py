"""Start-up configuration: refuse to start without real keys, secure defaults, clean --deploy.

Each case runs `manage.py` in a subprocess on a copy of the project without `.env`, with a
clean environment holding only the variables the case names: what a production host sees.
"""
from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = secrets.token_urlsafe(50)
JWT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The code only: no .env, no database, no logs of the working tree can leak in."""
    copy = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("apps", "config", "frontend"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    return copy


def run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(project),
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "LOG_DIR": str(project / "logs"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=clean_env, capture_output=True, text=True, timeout=60,
    )


def check(project: Path, **env: str) -> subprocess.CompletedProcess:
    return run(project, "manage.py", "check", **env)


def config_error(result: subprocess.CompletedProcess) -> str:
    """The one ImproperlyConfigured message the failed start printed."""
    assert result.returncode != 0, result.stdout
    messages = [
        line.split("ImproperlyConfigured:", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("django.core.exceptions.ImproperlyConfigured:")
    ]
    assert len(messages) == 1, result.stderr
    return messages[0]


# --- Refusing to start ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_missing_secret_key_with_debug_off_refuses_to_start_naming_it(project, how):
    env = {"DEBUG": "False", "JWT_SECRET_KEY": JWT_SECRET}
    if how == "empty":
        env["SECRET_KEY"] = ""
    message = config_error(check(project, **env))
    assert message.startswith("SECRET_KEY must be set"), message
    assert "JWT_SECRET_KEY" not in message


@pytest.mark.parametrize("how", ["unset", "empty"])
def test_missing_jwt_secret_key_with_debug_off_refuses_to_start_naming_it(project, how):
    env = {"DEBUG": "False", "SECRET_KEY": SECRET}
    if how == "empty":
        env["JWT_SECRET_KEY"] = ""
    message = config_error(check(project, **env))
    assert "JWT_SECRET_KEY must be set" in message


def test_debug_defaults_to_off_so_no_keys_means_no_start(project):
    message = config_error(check(project))
    assert "SECRET_KEY" in message and "JWT_SECRET_KEY" in message


def test_jwt_secret_key_equal_to_secret_key_refuses_to_start(project):
    result = check(project, DEBUG="False", SECRET_KEY=SECRET, JWT_SECRET_KEY=SECRET)
    message = config_error(result)
    assert "JWT_SECRET_KEY" in message and "differ" in message
    assert SECRET not in result.stderr + result.stdout


def test_jwt_secret_key_shorter_than_32_bytes_refuses_to_start(project):
    short = "k" * 31
    result = check(project, DEBUG="False", SECRET_KEY=SECRET, JWT_SECRET_KEY=short)
    message = config_error(result)
    assert "JWT_SECRET_KEY" in message and "32 bytes" in message
    assert short not in result.stderr + result.stdout


def test_jwt_secret_key_of_exactly_32_bytes_starts(project):
    result = check(project, DEBUG="False", SECRET_KEY=SECRET, JWT_SECRET_KEY="k" * 32)
    assert result.returncode == 0, result.stderr


def test_debug_on_without_keys_starts_with_throwaway_keys(project):
    result = check(project, DEBUG="True")
    assert result.returncode == 0, result.stderr


# --- Production-like environment ------------------------------------------------------------
PRODUCTION = {"DEBUG": "False", "SECRET_KEY": SECRET, "JWT_SECRET_KEY": JWT_SECRET, "ALLOWED_HOSTS": "example.com"}


def test_deploy_check_is_clean_with_only_the_documented_variables(project):
    result = run(project, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in result.stdout
    assert "WARNING" not in output and "security.W" not in output, output


PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "SIGNING_KEY_IS_JWT_KEY": settings.SIMPLE_JWT["SIGNING_KEY"] == settings.JWT_SECRET_KEY,
    "SIGNING_KEY_IS_SECRET_KEY": settings.SIMPLE_JWT["SIGNING_KEY"] == settings.SECRET_KEY,
}))
"""


def production_settings(project: Path, **env: str) -> dict:
    result = run(project, "-c", PRINT_SETTINGS, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_the_secure_ones(project):
    values = production_settings(project)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ALLOWED_HOSTS"] == ["example.com"]
    assert values["SIGNING_KEY_IS_JWT_KEY"] is True
    assert values["SIGNING_KEY_IS_SECRET_KEY"] is False


def test_a_secure_default_can_be_overridden_by_its_setting_name(project):
    values = production_settings(project, SECURE_SSL_REDIRECT="False", SECURE_HSTS_SECONDS="60")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 60


# --- Keys in the running app ----------------------------------------------------------------
def test_tokens_are_signed_with_the_jwt_key_not_secret_key(settings, tokens):
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == settings.JWT_SECRET_KEY
    assert settings.JWT_SECRET_KEY != settings.SECRET_KEY
    options = {"audience": settings.JWT_AUDIENCE, "issuer": settings.JWT_ISSUER}
    for token in (tokens["access"], tokens["refresh"]):
        assert jwt.decode(token, settings.JWT_SECRET_KEY, algorithms=["HS256"], **options)["user_id"]
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"], **options)
