"""Outbound mail (apps/mail/services.py) against a real SMTP server (aiosmtpd on a free port)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import transaction

import devprocs as services
from apps.mail import services as mail
from apps.mail.models import MailStatus, OutboundMail
from tests.support.fixtures import point_smtp


def queue(n: int = 1, to: str = "alice@example.org") -> None:
    for i in range(n):
        mail.mail_queue(to=to, subject=f"message {i}", body=f"hello {i}\nhttps://app.test/x?token=t{i}\n")


@pytest.mark.django_db
def test_mail_queued_in_a_rolled_back_transaction_is_never_sent(smtp):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("request failed")
    assert mail.mail_pending_count() == 0
    assert mail.mail_deliver_due() == 0
    assert smtp.received() == []


@pytest.mark.django_db
def test_queued_mail_reaches_the_smtp_server_once_with_from_subject_and_body(smtp):
    mail.mail_queue(to="alice@example.org", subject="Hi", body="line\nhttps://app.test/?t=1\n",
                    html_body="<p>hi</p>")
    assert mail.mail_pending_count() == 1
    assert mail.mail_deliver_due() == 1
    assert mail.mail_deliver_due() == 0
    [message] = smtp.received()
    assert message["From"] == "no-reply@authsvc.test"
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == "Hi"
    assert "https://app.test/?t=1" in services.message_text(message).splitlines()
    assert any(part.get_content_type() == "text/html" for part in message.walk())
    row = OutboundMail.objects.get()
    assert row.status == MailStatus.SENT and row.body == "" and row.html_body == ""
    assert mail.mail_pending_count() == 0


@pytest.mark.django_db
def test_smtp_down_keeps_the_message_and_delivers_it_once_when_back(settings, clock):
    with services.smtp_server(started=False) as server:
        point_smtp(settings, server.port)
        queue()
        assert mail.mail_deliver_due() == 1  # attempted, refused connection
        row = OutboundMail.objects.get()
        assert row.status == MailStatus.PENDING and row.attempts == 1 and row.last_error
        assert mail.mail_pending_count() == 1
        server.start()
        assert mail.mail_deliver_due() == 0  # not due yet: backoff
        clock.advance(seconds=settings.MAIL_RETRY_MAX_SECONDS + 1)
        assert mail.mail_deliver_due() == 1
        clock.advance(seconds=settings.MAIL_RETRY_MAX_SECONDS + 1)
        assert mail.mail_deliver_due() == 0
        assert len(server.received()) == 1
    assert OutboundMail.objects.get().status == MailStatus.SENT


@pytest.mark.django_db
def test_smtp_that_accepts_and_never_answers_costs_one_timeout_then_mail_is_delivered(settings, clock):
    with services.black_hole() as hung_port:
        point_smtp(settings, hung_port)
        queue(3)
        started = time.monotonic()
        assert mail.mail_deliver_due() == 1  # the pass stops at the first hung attempt
        assert time.monotonic() - started < 5  # EMAIL_TIMEOUT=1, bounded
        assert mail.mail_pending_count() == 3
    with services.smtp_server() as server:
        point_smtp(settings, server.port)
        clock.advance(seconds=settings.MAIL_RETRY_MAX_SECONDS + 1)
        assert mail.mail_deliver_due() == 3
        assert sorted(m["Subject"] for m in server.received()) == ["message 0", "message 1", "message 2"]
    assert mail.mail_pending_count() == 0


@pytest.mark.django_db
def test_permanent_refusal_marks_the_message_failed_and_is_not_retried(smtp, clock):
    from aiosmtpd.controller import Controller

    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 no such user"

    smtp.stop()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp.port, ready_timeout=10)
    controller.start()
    try:
        queue()
        assert mail.mail_deliver_due() == 1
    finally:
        controller.stop()
    row = OutboundMail.objects.get()
    assert row.status == MailStatus.FAILED and "550" in row.last_error
    clock.advance(seconds=120)
    assert mail.mail_deliver_due() == 0
    assert mail.mail_pending_count() == 0


@pytest.mark.django_db
def test_a_claimed_message_is_not_sent_by_a_second_worker_until_its_lease_expires(smtp, clock):
    queue()
    row = mail._claim_one()
    assert row
    assert mail.mail_deliver_due() == 0  # a second worker finds nothing to claim
    clock.advance(seconds=3 * 1 + 31)  # the first worker died: its lease (3 x EMAIL_TIMEOUT + 30 s) expires
    assert mail.mail_deliver_due() == 1
    assert len(smtp.received()) == 1


@pytest.mark.django_db
def test_message_body_never_reaches_the_log(smtp, caplog):
    caplog.set_level("DEBUG")
    mail.mail_queue(to="alice@example.org", subject="s", body="secret-token-abc123")
    mail.mail_deliver_due()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("apps"))
    assert f"Mail {OutboundMail.objects.get().id} delivered to @example.org" in ours
    assert "secret-token-abc123" not in ours
    assert "alice@" not in ours  # the domain at most


@pytest.mark.slow
def test_two_delivery_worker_processes_deliver_each_message_exactly_once():
    """Two `manage.py deliver_mail` processes on one database (SQLite file, or PostgreSQL on
    the PostgreSQL run), 40 messages: each reaches the SMTP server exactly once."""
    with services.smtp_server() as server, services.scratch_database_url(prefix="authsvc_mail") as db_url:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")},
            **services.PROD_LIKE_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": db_url,
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(server.port), "EMAIL_USE_TLS": "False",
            "EMAIL_TIMEOUT": "2", "MAIL_POLL_SECONDS": "0.1", "LOG_DIR": os.environ.get("LOG_DIR", "/tmp"),
        }
        services._run_manage(["migrate", "--noinput"], env)
        services._run_manage(["shell", "-c", (
            "from apps.mail.services import mail_queue\n"
            "for i in range(40): mail_queue(to=f'u{i}@example.org', subject=f'm{i}', body='b')"
        )], env)
        workers = [
            subprocess.Popen([sys.executable, "manage.py", "deliver_mail"], cwd=services.ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        try:
            assert services.wait_until(lambda: len(server.received()) >= 40, timeout=60)
            time.sleep(1.0)  # room for a duplicate to show up
        finally:
            for worker in workers:
                services.terminate(worker)
        subjects = sorted(m["Subject"] for m in server.received())
        assert subjects == sorted(f"m{i}" for i in range(40))


@pytest.mark.live
@pytest.mark.slow
def test_the_web_service_delivers_by_itself_once_with_two_gunicorn_workers():
    """No worker process: gunicorn's own workers deliver (MAIL_DELIVERY_IN_WEB, the default),
    each message once, within the contract's 15 s."""
    with services.smtp_server() as server, services.live_server(
        workers=2, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(server.port), EMAIL_USE_TLS="False",
        EMAIL_TIMEOUT="2",
    ) as live:
        services._run_manage(["shell", "-c", (
            "from apps.mail.services import mail_queue\n"
            "for i in range(10): mail_queue(to=f'u{i}@example.org', subject=f'm{i}', body='b')"
        )], live.env)
        assert services.wait_until(lambda: len(server.received()) >= 10, timeout=15)
        time.sleep(1.0)
        assert sorted(m["Subject"] for m in server.received()) == sorted(f"m{i}" for i in range(10))


@pytest.mark.django_db
def test_pending_mail_is_listed_in_the_admin_without_its_body(client):
    from tests.factories import UserFactory

    admin_user = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    mail.mail_queue(to="bob@example.org", subject="Reset your password", body="https://x/?token=SECRET1")
    page = client.get("/admin/mail/outboundmail/")
    assert page.status_code == 200
    assert b"bob@example.org" in page.content and b"pending" in page.content
    row = OutboundMail.objects.get()
    detail = client.get(f"/admin/mail/outboundmail/{row.id}/change/")
    assert detail.status_code == 200
    assert b"SECRET1" not in page.content + detail.content
