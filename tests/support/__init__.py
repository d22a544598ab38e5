"""Shared test support: `Api` (the auth API by URL name), token and error helpers, and the
process fixtures (`fixtures.py`, registered by tests/conftest.py). Tests import from here, never
from each other or from conftest."""
from tests.support.api import (
    DROP,
    Api,
    access_claims,
    assert_error,
    assert_rejected,
    assert_throttled,
    bearer,
    claims,
    client_for,
    sid,
    url,
)

__all__ = ["DROP", "Api", "access_claims", "assert_error", "assert_rejected", "assert_throttled", "bearer", "claims", "client_for", "sid", "url"]
