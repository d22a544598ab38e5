"""Every setting. Production differs from development only by environment values.

Defaults are the secure ones: with DEBUG unset the process refuses to start without real keys,
redirects to HTTPS, sends HSTS and secure cookies. See `.env.example` for every variable.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

from apps.core import csp as _csp
from config import __version__
from config.env import BASE_DIR, env_bool, env_float, env_int, env_list, env_str
from config.logging import build_logging

VERSION = env_str("APP_VERSION", default=__version__)

DEBUG = env_bool("DEBUG", default=False)

# --- Keys -------------------------------------------------------------------------------------
# No built-in fallback key, ever: with DEBUG=False a missing key stops start-up. In DEBUG a
# missing key is replaced by a random one per process (tokens then die with the process),
# which is safe because it is never a constant an attacker could know.
MIN_JWT_KEY_BYTES = 32


def _require_keys(secret_key: str | None, jwt_key: str | None, *, debug: bool) -> tuple[str, str]:
    if not debug:
        missing = [n for n, v in (("SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_key)) if not v]
        if missing:
            raise ImproperlyConfigured(
                f"{' and '.join(missing)} must be set when DEBUG=False "
                "(environment or .env); refusing to start with a built-in key."
            )
        if len(jwt_key.encode()) < MIN_JWT_KEY_BYTES:
            raise ImproperlyConfigured(
                f"JWT_SECRET_KEY must be at least {MIN_JWT_KEY_BYTES} bytes when DEBUG=False."
            )
    secret_key = secret_key or secrets.token_urlsafe(50)
    jwt_key = jwt_key or secrets.token_urlsafe(48)
    if secret_key == jwt_key:
        raise ImproperlyConfigured("JWT_SECRET_KEY must differ from SECRET_KEY.")
    return secret_key, jwt_key


SECRET_KEY, JWT_SECRET_KEY = _require_keys(
    env_str("SECRET_KEY", default=None), env_str("JWT_SECRET_KEY", default=None), debug=DEBUG
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default="localhost,127.0.0.1")

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.tenants",
    "apps.accounts",
    "apps.audit",
    "apps.mail",
]

MIDDLEWARE = [
    # First: every response, including those of the middleware below, gets X-Request-ID.
    "apps.core.middleware.RequestIdMiddleware",
    # Counts every response, health checks and redirects included (contract: "Metrics").
    "apps.core.middleware.MetricsMiddleware",
    # Before host validation and the HTTPS redirect: platform health checkers use plain
    # HTTP and the container's own address.
    "apps.core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's CSRF check for every unsafe `X-Auth-Transport: cookie` request (DRF views are
    # csrf_exempt, so the line above skips them): apps/accounts/transport.py.
    "apps.accounts.transport.CookieTransportCsrfMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.JsonErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# ATOMIC_REQUESTS stays off: DRF rolls back on error responses, which would undo a revocation
# answered with 401. Services open their own transactions.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Behind PgBouncer in transaction mode: server-side cursors (QuerySet.iterator()) cannot
# outlive a transaction there (README "Scale-out").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
# Server-side prepared statements on the hot paths (apps/core/prepared.py: PREPARE once per
# server session, then EXECUTE). Off behind PgBouncer in transaction mode, which may hand the
# next statement to another server session. Defaults to on, or off where the pooler setting
# above is on (so a deployment that set only that one keeps working).
DATABASE_PREPARED_STATEMENTS = env_bool(
    "DATABASE_PREPARED_STATEMENTS", default=not DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent rotations of one session queue up
    # instead of failing with "database is locked" when a reader upgrades to a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A dead database must answer 503 quickly, not hang the worker for the OS TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", default=3)
    )
    # Django's backend, with CONN_HEALTH_CHECKS answered by a poll() of the socket instead of
    # a SELECT 1 round trip before every request's first query (apps/core/postgres/base.py).
    DATABASES["default"]["ENGINE"] = "apps.core.postgres"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache / Redis ----------------------------------------------------------------------------
# Redis is optional: unset REDIS_URL and the app runs on its database alone. When set, the
# connection has short timeouts and no retries; apps/core/cache.py adds the circuit breaker.
REDIS_URL = env_str("REDIS_URL", default="") or ""
REDIS_SOCKET_TIMEOUT = float(env_str("REDIS_SOCKET_TIMEOUT", default="0.25"))
REDIS_CIRCUIT_COOLDOWN_SECONDS = float(env_str("REDIS_CIRCUIT_COOLDOWN_SECONDS", default="5"))

REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", default="authsvc")

# /health asks the database and Redis at most once per this many seconds per worker and
# answers from that probe in between (apps/core/health.py); 0: on every request.
HEALTH_CHECK_CACHE_SECONDS = env_float("HEALTH_CHECK_CACHE_SECONDS", default=1.0)


def build_caches(redis_url: str, *, socket_timeout: float, key_prefix: str) -> dict:
    """CACHES for a Redis URL (django-redis), or process memory when there is none."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": socket_timeout,
                "SOCKET_TIMEOUT": socket_timeout,
                # Never turn an outage into a silent miss; callers decide (apps/core/cache.py).
                "IGNORE_EXCEPTIONS": False,
                # No retries: an outage must cost one timeout, not several (redis-py retries
                # with backoff by default).
                "CONNECTION_POOL_KWARGS": {"max_connections": 50, "retry": Retry(NoBackoff(), 0)},
            },
        }
    }


CACHES = build_caches(REDIS_URL, socket_timeout=REDIS_SOCKET_TIMEOUT, key_prefix=REDIS_KEY_PREFIX)

# --- Auth -------------------------------------------------------------------------------------
# Argon2id at OWASP's minimum (m=19 MiB, t=2, p=1): ~25 ms a check here, against ~260 ms for
# Django's Argon2 defaults. Older hashes (PBKDF2, Django-default Argon2) upgrade on login.
PASSWORD_HASHERS = [
    "apps.accounts.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ACCESS_TOKEN_LIFETIME_MINUTES = env_int("ACCESS_TOKEN_LIFETIME_MINUTES", default=15)
REFRESH_TOKEN_LIFETIME_DAYS = env_int("REFRESH_TOKEN_LIFETIME_DAYS", default=7)
REFRESH_REUSE_GRACE_SECONDS = env_int("REFRESH_REUSE_GRACE_SECONDS", default=10)
SESSION_MAX_LIFETIME_DAYS = env_int("SESSION_MAX_LIFETIME_DAYS", default=30)
JWT_ISSUER = env_str("JWT_ISSUER", default="authsvc")
JWT_AUDIENCE = env_str("JWT_AUDIENCE", default="authsvc-api")
# Tokens longer than this are rejected before any parsing (ours are well under 1 KiB).
JWT_MAX_TOKEN_LENGTH = 4096
# How often (per process) a login sweeps expired sessions, so storage stays bounded without cron.
SESSION_PRUNE_INTERVAL_SECONDS = env_int("SESSION_PRUNE_INTERVAL_SECONDS", default=3600)

# Every security-relevant key is stated, even where it equals simplejwt's default: simplejwt
# silently signs with SECRET_KEY unless SIGNING_KEY is set.
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET_KEY,
    "VERIFYING_KEY": "",
    "AUDIENCE": JWT_AUDIENCE,
    "ISSUER": JWT_ISSUER,
    "LEEWAY": timedelta(seconds=5),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_LIFETIME_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_LIFETIME_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": False,  # sessions (apps/accounts/sessions) replace the blacklist
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_HEADER_NAME": "HTTP_AUTHORIZATION",
    "AUTH_TOKEN_CLASSES": ("apps.accounts.tokens.TenantAccessToken",),
    "CHECK_REVOKE_TOKEN": False,
}

# --- Signing keys (contract: "Signing keys"; apps/accounts/keys.py) ----------------------------
# Access tokens: JWT_ALGORITHM (HS256 with JWT_SECRET_KEY, or EdDSA/ES256/RS256 with the PEM
# JWT_PRIVATE_KEY); refresh tokens: always HS256 with JWT_SECRET_KEY. Previous keys keep
# verifying until removed. Every key is parsed and checked here, so a bad one stops start-up
# with one line naming its variable, in DEBUG too (no silent fallback to HS256).
JWT_ALGORITHM = env_str("JWT_ALGORITHM", default="HS256")
JWT_PRIVATE_KEY = env_str("JWT_PRIVATE_KEY", default="")
JWT_PREVIOUS_PUBLIC_KEYS = env_str("JWT_PREVIOUS_PUBLIC_KEYS", default="")
JWT_SECRET_KEY_FALLBACKS = env_list("JWT_SECRET_KEY_FALLBACKS")
if not DEBUG and any(len(k.encode()) < MIN_JWT_KEY_BYTES for k in JWT_SECRET_KEY_FALLBACKS):
    raise ImproperlyConfigured(
        f"JWT_SECRET_KEY_FALLBACKS: each key must be at least {MIN_JWT_KEY_BYTES} bytes when DEBUG=False."
    )


def _check_signing_keys() -> None:
    from apps.accounts.keys import build_keyring

    build_keyring(
        algorithm=JWT_ALGORITHM, private_key=JWT_PRIVATE_KEY, previous_public_keys=JWT_PREVIOUS_PUBLIC_KEYS,
        secret_key=JWT_SECRET_KEY, secret_key_fallbacks=JWT_SECRET_KEY_FALLBACKS,
    )


_check_signing_keys()
# How long verifiers may cache /.well-known/jwks.json (they refetch on an unknown kid anyway).
JWKS_MAX_AGE_SECONDS = env_int("JWKS_MAX_AGE_SECONDS", default=300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.SessionAwareJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exception_handler.api_exception_handler",
    "NUM_PROXIES": env_int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env_str("THROTTLE_LOGIN_IP", default="20/min"),
        "login_email": env_str("THROTTLE_LOGIN_EMAIL", default="5/min"),
        "register": env_str("THROTTLE_REGISTER", default="10/hour"),
        "refresh": env_str("THROTTLE_REFRESH", default="60/min"),
        "password_change": env_str("THROTTLE_PASSWORD_CHANGE", default="5/min"),
        # Account recovery and verification ("5/15m" = 5 per 15 minutes).
        "password_reset_ip": env_str("THROTTLE_PASSWORD_RESET_IP", default="20/15m"),
        "password_reset_email": env_str("THROTTLE_PASSWORD_RESET_EMAIL", default="5/15m"),
        "password_reset_confirm": env_str("THROTTLE_PASSWORD_RESET_CONFIRM", default="20/15m"),
        "email_verify": env_str("THROTTLE_EMAIL_VERIFY", default="20/15m"),
        "email_verify_resend": env_str("THROTTLE_EMAIL_VERIFY_RESEND", default="5/15m"),
        "invitation_accept": env_str("THROTTLE_INVITATION_ACCEPT", default="20/min"),
        "invitation_send": env_str("THROTTLE_INVITATION_SEND", default="50/hour"),
        "invitation_send_tenant": env_str("THROTTLE_INVITATION_SEND_TENANT", default="100/hour"),
        "invitation_send_unverified": env_str("THROTTLE_INVITATION_SEND_UNVERIFIED", default="5/hour"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
NUM_PROXIES = REST_FRAMEWORK["NUM_PROXIES"]
THROTTLE_ENABLED = env_bool("THROTTLE_ENABLED", default=True)

SPECTACULAR_SETTINGS = {
    "TITLE": "Auth service API",
    "DESCRIPTION": "Tenant-aware JWT authentication with rotating, revocable refresh sessions.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Off: a token pasted into Authorize stays in page memory, never in localStorage.
    # validatorUrl None: no badge image from validator.swagger.io (outside the docs' CSP, and a leak
    # of the schema URL to a third party).
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Invitation and role-change bodies accept `owner` (answered 403), members POST does not.
    "ENUM_NAME_OVERRIDES": {"RequestedRoleEnum": "apps.tenants.serializers.ROLE_CHOICES"},
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
# Browser clients (cookie transport, apps/accounts/transport.py): a listed origin may send
# credentials (the refresh cookie) and the transport/CSRF headers; others get no ACAO at all.
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*cors_default_headers, "x-auth-transport", "x-request-id")

# --- Refresh cookie (cookie transport) ---------------------------------------------------------
# `__Secure-` makes browsers refuse the cookie unless it is Secure and set over HTTPS; plain
# `refresh` in DEBUG, where http://127.0.0.1 is the norm.
REFRESH_COOKIE_NAME = env_str("REFRESH_COOKIE_NAME", default="refresh" if DEBUG else "__Secure-refresh")
REFRESH_COOKIE_SECURE = env_bool("REFRESH_COOKIE_SECURE", default=not DEBUG)
REFRESH_COOKIE_SAMESITE = (env_str("REFRESH_COOKIE_SAMESITE", default="Strict") or "").capitalize()
REFRESH_COOKIE_DOMAIN = env_str("REFRESH_COOKIE_DOMAIN", default="") or None
# A frontend on another site needs SameSite=None on the CSRF cookie as well.
CSRF_COOKIE_SAMESITE = env_str("CSRF_COOKIE_SAMESITE", default="None" if REFRESH_COOKIE_SAMESITE == "None" else "Lax")


def _check_refresh_cookie(name: str, *, secure: bool, samesite: str) -> None:
    """Refuse settings a browser would silently ignore (the cookie would just never arrive)."""
    if samesite not in ("Strict", "Lax", "None"):
        raise ImproperlyConfigured("REFRESH_COOKIE_SAMESITE must be Strict, Lax or None.")
    if not secure and name.startswith(("__Secure-", "__Host-")):
        raise ImproperlyConfigured(
            f"REFRESH_COOKIE_NAME={name} needs a Secure cookie: browsers drop it otherwise "
            "(set REFRESH_COOKIE_SECURE=True, or another name)."
        )
    if not secure and samesite == "None":
        raise ImproperlyConfigured("REFRESH_COOKIE_SAMESITE=None needs REFRESH_COOKIE_SECURE=True (HTTPS).")


_check_refresh_cookie(REFRESH_COOKIE_NAME, secure=REFRESH_COOKIE_SECURE, samesite=REFRESH_COOKIE_SAMESITE)

# --- Security (secure by default; every key overridable by its own name) -----------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Platform health checkers speak plain HTTP to the container (contract: no redirect there).
SECURE_REDIRECT_EXEMPT = [r"^health/?$", r"^health/live/?$"]
# Render (and most PaaS) terminate TLS at a proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool(
    "SECURE_PROXY_SSL_HEADER", default=not DEBUG
) else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# JSON bodies here are tiny; 1 MiB leaves room for a hostile 1 MB token to be answered with
# a clean 401 rather than a 400 from the size guard, while bounding memory per request.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DEBUG_ERRORS = env_bool("DEBUG_ERRORS", default=False)

# --- Email ------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", default="")
EMAIL_PORT = env_int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
# --- Account recovery and verification (apps/accounts/services/recovery.py, verification.py) ---
# Links in the emails point at the frontend's pages, never at this API.
PASSWORD_RESET_URL = env_str(
    "PASSWORD_RESET_URL", default="http://localhost:3000/reset-password?uid={uid}&token={token}"
)
EMAIL_VERIFY_URL = env_str("EMAIL_VERIFY_URL", default="http://localhost:3000/verify-email?token={token}")
# Django's PasswordResetTokenGenerator reads PASSWORD_RESET_TIMEOUT (seconds).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)
EMAIL_VERIFY_TIMEOUT_SECONDS = env_int("EMAIL_VERIFY_TIMEOUT_SECONDS", default=259200)
EMAIL_VERIFICATION = (env_str("EMAIL_VERIFICATION", default="optional") or "optional").strip().lower()
if EMAIL_VERIFICATION not in ("optional", "mandatory"):
    raise ImproperlyConfigured("EMAIL_VERIFICATION must be 'optional' or 'mandatory'.")
for _name, _template, _fields in (
    ("PASSWORD_RESET_URL", PASSWORD_RESET_URL, ("{uid}", "{token}")),
    ("EMAIL_VERIFY_URL", EMAIL_VERIFY_URL, ("{token}",)),
):
    if not all(field in _template for field in _fields):
        raise ImproperlyConfigured(f"{_name} must contain {' and '.join(_fields)}.")

# Outbound mail (apps/mail/services.py): queued in the database, delivered off the request path.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=10)  # seconds per SMTP attempt
# True: each web process delivers in a daemon thread (no extra process needed). Set False when
# `manage.py deliver_mail` runs as a separate worker.
MAIL_DELIVERY_IN_WEB = env_bool("MAIL_DELIVERY_IN_WEB", default=True)
MAIL_POLL_SECONDS = env_float("MAIL_POLL_SECONDS", default=2.0)
MAIL_RETRY_MAX_SECONDS = env_int("MAIL_RETRY_MAX_SECONDS", default=30)
MAIL_KEEP_SENT_DAYS = env_int("MAIL_KEEP_SENT_DAYS", default=7)

# --- Teams: invitations ------------------------------------------------------------------------
# The frontend page an invitation email links to; `{token}` is replaced by the invitation token.
INVITE_ACCEPT_URL = env_str("INVITE_ACCEPT_URL", default="http://localhost:3000/accept-invite?token={token}")
INVITATION_TTL_SECONDS = env_int("INVITATION_TTL_SECONDS", default=7 * 24 * 3600)

# --- I18N / static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / Path(env_str("STATIC_ROOT", default="staticfiles"))  # an absolute one wins
# The reference browser client: /static/auth-client.js and /static/demo.html.
STATICFILES_DIRS = [BASE_DIR / "frontend"]
# Static HTML pages (frontend/demo.html) carry the docs' Content-Security-Policy; WhiteNoise
# answers them before any later middleware could add it.
WHITENOISE_ADD_HEADERS_FUNCTION = _csp.add_static_headers
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Logging ----------------------------------------------------------------------------------
LOG_DIR = BASE_DIR / Path(env_str("LOG_DIR", default="logs"))  # an absolute LOG_DIR wins
LOG_FORMAT = env_str("LOG_FORMAT", default="text").lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOGGING = build_logging(
    log_dir=LOG_DIR,
    debug=DEBUG,
    level=env_str("LOG_LEVEL", default="INFO").upper(),
    max_bytes=env_int("LOG_MAX_BYTES", default=10 * 1024 * 1024),
    backup_count=env_int("LOG_BACKUP_COUNT", default=5),
    to_stdout=env_bool("LOG_TO_STDOUT", default=False),
    log_format=LOG_FORMAT,
)


# --- Observability (security events, metrics) ---------------------------------------------------
# Security events are kept this long, then pruned (with sessions: from login and prune_sessions).
SECURITY_EVENT_RETENTION_DAYS = env_int("SECURITY_EVENT_RETENTION_DAYS", default=90)
# Bearer token for GET /metrics; unset, /metrics answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", default="") or ""
