"""Teams fixtures: the roles of one tenant, and a real SMTP server the app delivers to."""
from __future__ import annotations

import pytest

import devprocs as services
from apps.accounts.models import Role
from apps.mail import services as mail
from tests.factories import UserFactory

ACCEPT_URL = "https://app.example.test/join?token={token}"




@pytest.fixture
def admin(tenant):
    return UserFactory(email="admin@acme.io", tenant=tenant, role=Role.ADMIN)


@pytest.fixture
def member(tenant):
    return UserFactory(email="member@acme.io", tenant=tenant, role=Role.MEMBER)


class Inbox:
    """What the app delivered to the real SMTP server (aiosmtpd on a free port)."""

    def __init__(self, server) -> None:
        self.server = server

    def messages(self) -> list:
        mail.mail_deliver_due()
        return self.server.received()

    def tokens_for(self, email: str) -> list[str]:
        """The tokens of the invitation links mailed to `email`, oldest first; each link must
        be INVITE_ACCEPT_URL with the token, on a line of its own."""
        tokens = []
        for message in self.messages():
            if message["To"] == email:
                lines = services.message_text(message).splitlines()
                [link] = [line for line in lines if line.startswith("https://app.example.test/join?token=")]
                tokens.append(link.removeprefix("https://app.example.test/join?token="))
        return tokens

    def token_for(self, email: str) -> str:
        return self.tokens_for(email)[-1]


@pytest.fixture
def inbox(settings):
    with services.smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 2
        settings.DEFAULT_FROM_EMAIL = "team@authsvc.test"
        settings.INVITE_ACCEPT_URL = ACCEPT_URL
        yield Inbox(server)
