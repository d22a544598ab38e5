"""The id of the request being served, shared by the middleware and the log filter.

A ContextVar rather than a thread-local so it is also correct under ASGI.
"""
from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_SANE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def from_header(value: str | None) -> str:
    """Echo a client's id when it is sane (contract: 1-128 of A-Za-z0-9._-), else mint one."""
    if value and _SANE.match(value):
        return value
    return uuid.uuid4().hex


def get() -> str | None:
    return _current.get()


def set_current(value: str | None) -> None:
    _current.set(value)
