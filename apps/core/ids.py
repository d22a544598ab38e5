"""Identifiers from outside (URL segments, token claims): parsed once, never trusted."""
from __future__ import annotations

import uuid
from typing import Any


def parse_uuid(value: Any) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is missing or not one.

    Lookups by a client-supplied id go through this first, so a malformed id is "no such
    row" (404 or 401, as the caller decides) instead of a database error: PostgreSQL's uuid
    type refuses the string outright, SQLite would just compare text.
    """
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
