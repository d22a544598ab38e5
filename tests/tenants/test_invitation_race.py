"""Invitations end to end against the real thing: gunicorn workers sharing one database, and
the invitation email delivered by the web process itself to a real SMTP server. Concurrent
accepts of one token: exactly one account is made (the invitation row is locked)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import devprocs as services
from tests.accounts.test_concurrency import App, warm_up

pytestmark = [pytest.mark.live]

PARALLEL = 8
ACCEPT_URL = "https://app.example.test/join?token={token}"


def test_concurrent_accepts_of_one_invitation_make_exactly_one_account():
    with services.smtp_server() as smtp, services.live_server(
        workers=3, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp.port), EMAIL_USE_TLS="False",
        EMAIL_TIMEOUT="2", DEFAULT_FROM_EMAIL="team@authsvc.test", INVITE_ACCEPT_URL=ACCEPT_URL,
    ) as server:
        app = App(server.url)
        warm_up(app)
        status, owner = app.call("POST", "/api/auth/register/", {
            "email": "owner@race.test", "password": "Correct-Horse-42!", "tenant_name": "Race",
        })
        assert status == 201, owner
        status, invitation = app.call(
            "POST", "/api/tenants/current/invitations/", {"email": "hire@race.test"}, access=owner["access"],
        )
        assert status == 201, invitation

        def invitation_mail():
            return [m for m in smtp.received() if m["To"] == "hire@race.test"]

        assert services.wait_until(lambda: invitation_mail(), timeout=20), "no invitation email within 20 s"
        [message] = invitation_mail()
        assert message["From"] == "team@authsvc.test"
        [link] = [line for line in services.message_text(message).splitlines() if line.startswith("https://app.example.test/")]
        token = link.removeprefix("https://app.example.test/join?token=")
        barrier = threading.Barrier(PARALLEL)

        def one(n: int) -> tuple[int, dict]:
            barrier.wait(timeout=10)
            return app.call("POST", "/api/tenants/invitations/accept/", {"token": token, "password": f"Racer-{n}-Horse-42!"})

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            results = list(pool.map(one, range(PARALLEL), timeout=60))

        statuses = sorted(status for status, _ in results)
        assert statuses == [201] + [400] * (PARALLEL - 1), results
        assert {body["code"] for status, body in results if status == 400} == {"invalid_token"}
        [winner] = [body for status, body in results if status == 201]
        assert winner["user"]["tenant"]["slug"] == "race" and winner["user"]["role"] == "member"
        status, members = app.call("GET", "/api/tenants/current/members/", access=owner["access"])
        assert status == 200
        assert sorted(m["email"] for m in members) == ["hire@race.test", "owner@race.test"]
