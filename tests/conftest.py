from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.accounts.services import session_open
from apps.core import health, throttling
from apps.core.cache import gateway
from config.settings.base import build_caches
from tests.factories import PASSWORD, TenantFactory, UserFactory
from tests.support import Api, bearer  # noqa: F401  (bearer: old import path, for tests not yet moved)
from tests.support.fixtures import (  # noqa: F401  (fixtures)
    deliver,
    mid_window,
    point_smtp,
    rates,
    redis_server,
    shared_redis_url,
    smtp,
)


@pytest.fixture(autouse=True)
def _isolated_state(settings):
    """Each test gets its own Redis key namespace and fresh throttle/breaker state, so tests
    sharing one Redis (the PostgreSQL + Redis run) never see each other's counters."""
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    if settings.REDIS_URL:
        settings.CACHES = build_caches(settings.REDIS_URL, socket_timeout=0.25, key_prefix=settings.REDIS_KEY_PREFIX)
    throttling.reset_local_counters()
    gateway.reset()
    health.reset()
    yield
    gateway.reset()
    health.reset()


@pytest.fixture
def use_redis(settings):
    """Point the app at a Redis URL (settings change resets the client and breaker)."""

    def point_at(url: str) -> None:
        settings.REDIS_URL = url
        settings.CACHES = build_caches(url, socket_timeout=0.25, key_prefix=settings.REDIS_KEY_PREFIX)
        settings.REDIS_CIRCUIT_COOLDOWN_SECONDS = 0.5

    return point_at


@pytest.fixture
def no_redis(settings):
    settings.REDIS_URL = ""
    settings.CACHES = build_caches("", socket_timeout=0.25, key_prefix="x")


@pytest.fixture
def clock():
    """Moves the real clock (PyJWT, Django and our services agree): clock.advance(seconds=11)."""
    with time_machine.travel(datetime.now(tz=UTC), tick=True) as traveller:

        class Clock:
            @staticmethod
            def advance(*, seconds: float = 0, days: float = 0) -> None:
                traveller.shift(timedelta(seconds=seconds, days=days))

        yield Clock()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme", slug="acme", enabled_modules=["crm"])


@pytest.fixture
def user(db, tenant):
    return UserFactory(email="owner@acme.io", tenant=tenant)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def api(api_client):
    """The auth API by URL name on the test's `api_client` (tests/support/api.py)."""
    return Api(api_client)


@pytest.fixture
def login(api):
    """login(email, password) -> the 200 response body (asserts success)."""
    return api.pair


@pytest.fixture
def tokens(user):
    return session_open(user=user, ip="127.0.0.1", user_agent="pytest").body()


@pytest.fixture
def auth_client(tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client
