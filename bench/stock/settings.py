"""Stock simplejwt baseline for bench/compare.py (bench/harness.py): nothing of ours, only
what the stock views need (TokenObtainPairView, TokenRefreshView, a JWTAuthentication `me`), configured like our app where the two overlap (same database engine and
connection options, same JWT algorithm, key length, iss/aud, lifetimes), so that the
difference measured is the refresh path itself."""
import os
from datetime import timedelta

import dj_database_url

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

DEBUG = False
SECRET_KEY = os.environ.get("STOCK_SECRET_KEY", "bench-stock-secret-key-" + "s" * 40)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# Django's `startproject` middleware, minus the apps it would need (sessions, messages).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bench.stock.urls"
WSGI_APPLICATION = "bench.stock.wsgi.application"

# Same as config/settings/base.py: persistent connections, health checks, and on SQLite
# BEGIN IMMEDIATE + a 20 s busy timeout (without them concurrent gunicorn workers get
# "database is locked" errors, which would not be a fair baseline).
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{os.path.join(BASE_DIR, 'stock.sqlite3')}",
        conn_max_age=600,  # what a tuned stock deployment would use
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("STOCK_JWT_SECRET_KEY", "bench-stock-jwt-signing-key-" + "q" * 40),
    "AUDIENCE": "authsvc-api",
    "ISSUER": "authsvc",
    "LEEWAY": timedelta(seconds=5),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}

# Errors to stderr only; no file logging (our app's per-request log lines are part of what
# our side pays, and are discussed in bench/README.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["stderr"], "level": "ERROR"},
}
