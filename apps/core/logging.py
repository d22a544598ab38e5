"""Log filters (the request id on every line, secrets masked out of every line), the shared
rotating file handler, and the JSON line formatter.

The filters are attached to the handlers (not to loggers), so they see records from every
logger, Django's own `django.request` included.
"""
from __future__ import annotations

import fcntl
import logging
import os
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
    """Mask tokens, credentials in URLs, secret-looking fields and the configured keys.

    Each pattern runs only when the text holds the literal that pattern cannot match without
    ("-----BEGIN ", "eyJ", "://", ":" or "="): the result is the same, and a line such as
    the access line ("GET /api/auth/me/ 200 0.9ms") skips most of the work.
    """
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "-----BEGIN " in text:
        text = _PEM_PRIVATE.sub(REDACTED, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    if ":" in text or "=" in text:
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


# --- The log files: every worker appends, one rotates ---------------------------------------
class SharedRotatingFileHandler(logging.Handler):
    """A size-rotated file that every gunicorn worker writes at once, with no lost, duplicated
    or interleaved line (contract "Logs"), and a lock only when the file is rotated.

    - A line is one write(2) on an O_APPEND descriptor. Linux performs such a write on a
      regular file under the inode's lock, at the current end of the file: lines of concurrent
      processes never interleave or overwrite each other (local filesystems; not NFS).
    - Before each line, one stat(2) of the path gives the current file's identity and size.
      When another process has rotated, the path names a new file, and this one reopens it;
      when the line would take the file past `maxBytes`, this process takes an exclusive
      flock on a lock file beside it, checks again (another process may have just rotated),
      and rotates the stdlib's way: name.N-1 -> name.N, ..., name -> name.1.
    - A line written between another process's rotation and this one's next stat lands at the
      end of name.1: kept, in the previous file.

    concurrent-log-handler, used before, takes its inter-process lock around every line (flock
    through portalocker, stat, fstat, seek, write, flush, unlock): 40-90 us per line inside a
    request, measured, against ~30 us here, most of it formatting (docs/PERFORMANCE.md, "What
    was changed").
    """

    terminator = "\n"

    def __init__(self, filename: str, maxBytes: int = 0, backupCount: int = 0, encoding: str = "utf-8") -> None:
        super().__init__()
        self.baseFilename = os.path.abspath(filename)
        self.maxBytes, self.backupCount, self.encoding = maxBytes, backupCount, encoding
        folder, name = os.path.split(self.baseFilename)
        self.lockFilename = os.path.join(folder, f".{name}.lock")
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = (self.format(record) + self.terminator).encode(self.encoding, "backslashreplace")
            size = self._current_size()
            if self.maxBytes > 0 and self.backupCount > 0 and size > 0 and size + len(data) > self.maxBytes:
                self._rotate(len(data))
            self._write(data)
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - logging must never break the request
            self.handleError(record)

    def close(self) -> None:
        with self.lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = self._identity = None
        super().close()

    def _open(self) -> int:
        """(Re)open the file the path names now; returns its size."""
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        if self._fd is not None:
            os.close(self._fd)
        stat = os.fstat(fd)
        self._fd, self._identity = fd, (stat.st_dev, stat.st_ino)
        return stat.st_size

    def _current_size(self) -> int:
        try:
            stat = os.stat(self.baseFilename)
        except FileNotFoundError:  # mid-rotation elsewhere, or deleted: create it
            return self._open()
        if self._fd is None or (stat.st_dev, stat.st_ino) != self._identity:
            return self._open()
        return stat.st_size

    def _rotate(self, incoming: int) -> None:
        lock_fd = os.open(self.lockFilename, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                stat = os.stat(self.baseFilename)
            except FileNotFoundError:
                stat = None
            # Still the file we found full? Else another process rotated while we waited.
            if stat is not None and (stat.st_dev, stat.st_ino) == self._identity and stat.st_size + incoming > self.maxBytes:
                for index in range(self.backupCount - 1, 0, -1):
                    older = f"{self.baseFilename}.{index}"
                    if os.path.exists(older):
                        os.replace(older, f"{self.baseFilename}.{index + 1}")
                os.replace(self.baseFilename, f"{self.baseFilename}.1")
            self._open()
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)

    def _write(self, data: bytes) -> None:
        written = os.write(self._fd, data)
        while written < len(data):  # a regular file takes it whole unless the disk is full
            data = data[written:]
            written = os.write(self._fd, data)
