"""Log filters (the request id on every line, secrets masked out of every line), the shared
rotating file handler, and the two formatters (text line, JSON line).

The filters are attached to the handlers (not to loggers), so they see records from every
logger, Django's own `django.request` included. Control characters are escaped by the
formatters (`escape_controls`), after redaction: a value a client sent (a path with `%0A` or
ESC in it, an exception message quoting input) can neither start a forged line nor reach a
terminal as an escape sequence, whichever call site logged it.
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


# C0 controls (newline, carriage return, ESC, ...), DEL, C1 controls (NEL, CSI, ...) and the
# Unicode line and paragraph separators: everything that can end a line or drive a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character written as a printable escape: newline as `\\n`,
    ESC as `\\x1b`, U+2028 as `\\u2028`. `keep_newlines`: for tracebacks, whose line breaks are
    their own (the exception messages inside were escaped when the traceback was rendered)."""
    if text.isprintable():  # the usual line: no regex pass at all
        return text
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub(_escape_one, text)


def render_exception(exc_info: tuple) -> str:
    """The traceback text of `exc_info`, with control characters in each exception's message
    (and notes) escaped, chained and grouped exceptions included: a message quoting client
    input (a database error naming the value it refused) cannot forge lines in error.log."""
    rendered = traceback.TracebackException(*exc_info)
    pending, seen = [rendered], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(getattr(current, "_str", None), str):
            current._str = escape_controls(current._str)
        notes = getattr(current, "__notes__", None)
        if isinstance(notes, list):
            current.__notes__ = [escape_controls(n) if isinstance(n, str) else n for n in notes]
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(getattr(current, "exceptions", None) or ())
    return escape_controls("".join(rendered.format()).rstrip("\n"), keep_newlines=True)


class LineFormatter(logging.Formatter):
    """The contract's text line (config.logging.LINE_FORMAT), with control characters in the
    message escaped, and the traceback rendered by `render_exception`."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = record.message
        record.message = escape_controls(message)
        try:
            return super().formatMessage(record)
        finally:
            record.message = message

    def formatException(self, ei) -> str:
        return render_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        # A traceback cached by the RedactingFilter was rendered by render_exception; one
        # cached by anything else still has its control characters escaped (but its newlines).
        if record.exc_text:
            record.exc_text = escape_controls(record.exc_text, keep_newlines=True)
        if record.stack_info:
            record.stack_info = escape_controls(record.stack_info, keep_newlines=True)
        return super().format(record)


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
            record.exc_text = render_exception(record.exc_info)
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
    string), and other string extras are redacted too. Control characters are escaped in every
    string value as in the text line (`escape_controls`), so a message reads the same in both.
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
            if isinstance(value, str):
                log_data[key] = escape_controls(value if key in self._CORE else redact(value))
        if record.exc_info and not record.exc_text:  # no RedactingFilter on this handler
            record.exc_text = redact(render_exception(record.exc_info))
        if record.exc_text:
            log_data["exception"] = escape_controls(record.exc_text, keep_newlines=True)
        if record.stack_info:
            log_data["stack_info"] = escape_controls(record.stack_info, keep_newlines=True)


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
