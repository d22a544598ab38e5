"""Test settings: base plus speed and isolation overrides only."""
import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "s" * 40)
os.environ.setdefault("JWT_SECRET_KEY", "test-jwt-signing-key-" + "j" * 40)
os.environ.setdefault("LOG_DIR", tempfile.mkdtemp(prefix="authsvc-test-logs-"))

from .base import *  # noqa: F403

# Hashing cost is measured in bench/, not paid by every test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_PRUNE_INTERVAL_SECONDS = 0
# Every /health asks its dependencies; tests of the reuse set it themselves.
HEALTH_CHECK_CACHE_SECONDS = 0
# No collectstatic before tests: whitenoise serves from the finders.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# A test database per run, so concurrent runs against one PostgreSQL server cannot drop each
# other's database (pytest-django drops it at the end).
if DATABASES["default"]["ENGINE"] == "apps.core.postgres":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_authsvc_{os.getpid()}"}  # noqa: F405
# Mail is delivered only where a test asks for it (mail_deliver_due or its own worker).
MAIL_DELIVERY_IN_WEB = False
