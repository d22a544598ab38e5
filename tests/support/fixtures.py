"""pytest fixtures around devprocs (the process plumbing shared with bench): a private Redis,
the shared Redis's URL, a real SMTP server. Registered by tests/conftest.py."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

import devprocs


def point_smtp(settings, port: int) -> None:
    """The app's mail goes to a plain SMTP server on 127.0.0.1:port, 1 s per attempt."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1
    settings.DEFAULT_FROM_EMAIL = "no-reply@authsvc.test"


@pytest.fixture
def redis_server():
    """A private redis-server for this test: kill it, restart it empty, flush it."""
    with devprocs.redis_process() as server:
        yield server


@pytest.fixture
def shared_redis_url():
    return devprocs.shared_redis_url()


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) for this test, and the app pointed at it. Mail is handed
    over when the test calls `deliver()` (the delivery thread is off in tests)."""
    with devprocs.smtp_server() as server:
        point_smtp(settings, server.port)
        yield server


@pytest.fixture
def deliver():
    """deliver() -> the messages received by the `smtp` server after one delivery pass."""
    from apps.mail import services as mail

    def run() -> int:
        return mail.mail_deliver_due()

    return run


@pytest.fixture
def rates(settings):
    """rates(login_ip="3/hour", ...): throttles on, with these rates and every other one high."""

    def set_rates(**overrides: str) -> None:
        settings.THROTTLE_ENABLED = True
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**{scope: "1000/hour" for scope in current}, **overrides},
        }

    return set_rates


@pytest.fixture
def mid_window(request):
    """Fixed windows: put the clock in the middle of the hour, so no window ends mid-test.
    (Not for live servers, which run on the real clock.) Throttle test modules use it with
    `pytestmark = pytest.mark.usefixtures("mid_window")`."""
    if request.node.get_closest_marker("live"):
        yield
        return
    now = datetime.now(tz=UTC)
    with time_machine.travel(now.replace(minute=30, second=0, microsecond=0), tick=True):
        yield
