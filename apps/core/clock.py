"""now(): the one place services read the time.

Tests move time with the `clock` fixture (tests/conftest.py), which shifts the real clock
with time-machine so that PyJWT's exp/iat checks, Django and our services all agree.
"""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def epoch_seconds(moment: datetime) -> int:
    """A JWT NumericDate (RFC 7519 section 2): whole seconds since the epoch."""
    return int(moment.timestamp())
