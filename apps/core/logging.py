"""Log filters: the request id on every line, and secrets masked out of every line.

Both are attached to the handlers (not to loggers), so they see records from every logger,
Django's own `django.request` included.
"""
from __future__ import annotations

import logging
import re
import traceback
from datetime import UTC, datetime

from apps.core import request_id

REDACTED = "[REDACTED]"

# Compact JWS/JWT: three base64url segments, the first of which starts with '{"' encoded.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
# A PEM private key (JWT_PRIVATE_KEY), whole or cut off: the base64 body is the secret.
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s,;\"']+")
# scheme://user:password@host -> scheme://user:[REDACTED]@host (and scheme://:password@host).
# Up to the *last* "@" of the authority, as urlsplit reads it: a password with a raw "@"
# (which dj-database-url accepts) is masked whole, not cut at its first "@".
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/?#@\s]*):[^/?#\s]+@")
# password=..., "refresh": "...", secret_key: ... in reprs, query strings and JSON.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (["']?\b(?:[a-z_]*password[a-z_]*|passwd|pwd|secret[a-z_]*|[a-z_]*secret_key|token|access|refresh
        |api_key|authorization|signing_key)["']?\s*[:=]\s*)
    ("[^"]*"|'[^']*'|[^\s,;&}\]]+)
    """
)


def _configured_secrets() -> list[str]:
    """Secret values from settings, masked verbatim wherever they appear."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        values = [settings.SECRET_KEY, getattr(settings, "JWT_SECRET_KEY", ""),
                  *getattr(settings, "JWT_SECRET_KEY_FALLBACKS", [])]
    except ImproperlyConfigured:  # settings not configured yet (early start-up)
        return []
    return [v for v in values if isinstance(v, str) and len(v) >= 8]


def redact(text: str) -> str:
    """Mask tokens, credentials in URLs, secret-looking fields and the configured keys."""
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _PEM_PRIVATE.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id`: the id of the request being served, or '-' outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        rid = getattr(request, "request_id", None) or request_id.get()
        record.request_id = rid or "-"
        return True


class RedactingFilter(logging.Filter):
    """Rewrites the record's message, arguments and exception text with secrets masked.

    The message is rendered once (msg % args) and the result replaces both, so a secret passed
    as an argument is caught too; the traceback text is rendered here and cached on the
    record, where formatters pick it up instead of rendering it again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a broken format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._redacted = True
        return True


# --- LOG_FORMAT=json ------------------------------------------------------------------------
def _json_formatter_base() -> type[logging.Formatter]:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter


class JsonLineFormatter(_json_formatter_base()):  # type: ignore[misc]
    """One JSON object per line for log platforms (contract: LOG_FORMAT=json), built on
    python-json-logger: `level`, `time` (ISO 8601 UTC), `logger`, `function`, `request_id`
    (null outside a request), `message`, `exception` (the traceback text, for errors) and any
    `extra` fields.

    Secrets: the message and traceback come from the RedactingFilter (which runs first, on the
    handler); the library's own traceback rendering is not used, because it would read the
    unredacted exception again. Django's `request` extra is dropped (its repr holds the query
    string), and other string extras are redacted too.
    """

    _CORE = ("level", "time", "logger", "function", "request_id", "message")

    def __init__(self, *args, **kwargs) -> None:
        from pythonjsonlogger.core import RESERVED_ATTRS

        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "request_id", "_redacted"])
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        message_dict.pop("exc_info", None)
        message_dict.pop("stack_info", None)
        log_data.update(
            level=record.levelname,
            time=datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            logger=record.name,
            function=record.funcName,
            request_id=getattr(getattr(record, "request", None), "request_id", None) or request_id.get(),
            message=record.getMessage(),
        )
        super().add_fields(log_data, record, message_dict)
        for key, value in list(log_data.items()):
            if key not in self._CORE and isinstance(value, str):
                log_data[key] = redact(value)
        if record.exc_info and not record.exc_text:  # no RedactingFilter on this handler
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.exc_text:
            log_data["exception"] = record.exc_text
        if record.stack_info:
            log_data["stack_info"] = record.stack_info
