"""Refresh-cookie settings as a fresh production (or DEBUG) process sees them: the contract's
defaults, and a refusal to start with a cookie a browser would silently drop."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.core.test_settings import PRODUCTION, ROOT, config_error, run


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The code only, as in tests/core/test_settings.py: no .env of the working tree."""
    copy = tmp_path_factory.mktemp("project")
    for name in ("apps", "config", "frontend"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    return copy

PRINT = """
import json
from django.conf import settings
print(json.dumps({k: getattr(settings, k) for k in (
    "REFRESH_COOKIE_NAME", "REFRESH_COOKIE_SECURE", "REFRESH_COOKIE_SAMESITE", "REFRESH_COOKIE_DOMAIN",
    "CSRF_COOKIE_SAMESITE", "CORS_ALLOW_CREDENTIALS")}))
"""


def cookie_settings(project, **env: str) -> dict:
    result = run(project, "-c", PRINT, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_a_secure_strict_host_only_cookie(project):
    values = cookie_settings(project, **PRODUCTION)
    assert values == {
        "REFRESH_COOKIE_NAME": "__Secure-refresh", "REFRESH_COOKIE_SECURE": True,
        "REFRESH_COOKIE_SAMESITE": "Strict", "REFRESH_COOKIE_DOMAIN": None,
        "CSRF_COOKIE_SAMESITE": "Lax", "CORS_ALLOW_CREDENTIALS": True,
    }


def test_debug_defaults_are_a_plain_named_cookie_usable_over_http(project):
    values = cookie_settings(project, DEBUG="True")
    assert values["REFRESH_COOKIE_NAME"] == "refresh"
    assert values["REFRESH_COOKIE_SECURE"] is False


def test_samesite_none_for_another_site_also_relaxes_the_csrf_cookie(project):
    values = cookie_settings(project, **PRODUCTION, REFRESH_COOKIE_SAMESITE="none", REFRESH_COOKIE_DOMAIN="example.com")
    assert values["REFRESH_COOKIE_SAMESITE"] == "None"
    assert values["CSRF_COOKIE_SAMESITE"] == "None"
    assert values["REFRESH_COOKIE_DOMAIN"] == "example.com"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"REFRESH_COOKIE_SECURE": "False"}, "REFRESH_COOKIE_NAME=__Secure-refresh needs a Secure cookie"),
        ({"REFRESH_COOKIE_SECURE": "False", "REFRESH_COOKIE_NAME": "r", "REFRESH_COOKIE_SAMESITE": "None"},
         "REFRESH_COOKIE_SAMESITE=None needs REFRESH_COOKIE_SECURE=True"),
        ({"REFRESH_COOKIE_SAMESITE": "sometimes"}, "REFRESH_COOKIE_SAMESITE must be Strict, Lax or None"),
    ],
)
def test_a_cookie_browsers_would_drop_refuses_to_start(project, env, needle):
    assert needle in config_error(run(project, "manage.py", "check", **PRODUCTION, **env))
