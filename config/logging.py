"""LOGGING dict for settings: three rotating files plus optional stdout.

Every gunicorn worker writes the same files, and the stdlib RotatingFileHandler loses or
interleaves lines when two processes rotate at once; apps.core.logging.SharedRotatingFileHandler
appends each line with one O_APPEND write and takes an inter-process lock only to rotate.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

LINE_FORMAT = "[%(levelname)s] %(asctime)s %(name)s %(funcName)s %(request_id)s - %(message)s"


def build_logging(
    *,
    log_dir: Path,
    debug: bool,
    level: str = "INFO",
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
    to_stdout: bool = False,
    log_format: str = "text",
) -> dict[str, Any]:
    """Return a dictConfig: error.log, info.log, and debug.log only when `debug`.

    `log_format="json"`: every line also goes to stdout as one JSON object (whatever
    `to_stdout` says); the files keep the text format.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    # Both exist from start-up, before anything is logged: `tail -f logs/error.log` on a
    # fresh deploy must not fail (the handlers open their files lazily).
    for name in ("error.log", "info.log"):
        (log_dir / name).touch(exist_ok=True)
    json_stdout = log_format == "json"

    def rotating(filename: str, handler_level: str) -> dict[str, Any]:
        return {
            "class": "apps.core.logging.SharedRotatingFileHandler",
            "filename": str(log_dir / filename),
            "maxBytes": max_bytes,
            "backupCount": backup_count,
            "encoding": "utf-8",
            "level": handler_level,
            "formatter": "line",
            "filters": ["request_id", "redact"],
        }

    handlers: dict[str, Any] = {
        "error_file": rotating("error.log", "ERROR"),
        "info_file": rotating("info.log", "INFO"),
    }
    if debug:
        handlers["debug_file"] = rotating("debug.log", "DEBUG")
    if to_stdout or json_stdout:
        handlers["stdout"] = {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "level": "DEBUG" if debug else level,
            "formatter": "json" if json_stdout else "line",
            "filters": ["request_id", "redact"],
        }

    root_level = "DEBUG" if debug else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "apps.core.logging.RequestIdFilter"},
            "redact": {"()": "apps.core.logging.RedactingFilter"},
        },
        "formatters": {
            "line": {"()": "apps.core.logging.LineFormatter", "fmt": LINE_FORMAT},
            "json": {"()": "apps.core.logging.JsonLineFormatter"},
        },
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": root_level},
        "loggers": {
            # Django's request logger must reach our files (it would otherwise only go to
            # mail_admins); propagate to root, which holds every handler.
            "django": {"level": root_level, "propagate": True},
            "django.request": {"level": "INFO", "propagate": True},
            # SQL at DEBUG would put every query (and its parameters) in debug.log.
            "django.db.backends": {"level": "INFO", "propagate": True},
            "django.utils.autoreload": {"level": "INFO", "propagate": True},
        },
    }
