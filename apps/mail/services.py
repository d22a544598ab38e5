"""Outbound mail: recorded in the request's transaction, delivered off the request path.

The one module that talks to SMTP (like core/cache.py for Redis), beside the queue's table
(`models.OutboundMail`), its admin and the `deliver_mail` command. API used by every app:

    mail_queue(to=..., subject=..., body=..., html_body=None)   # in the caller's transaction
    mail_pending_count()                                        # the mail_queue_pending gauge

Guarantees, and why they hold
-----------------------------
1. A request never waits for SMTP and never fails because of it: `mail_queue` is one INSERT
   into `mail.OutboundMail`, in the caller's transaction, so a rolled-back request sends
   nothing and a committed one can never lose its message (it is in the database, not in
   process memory).
2. Delivery happens in a daemon thread of each web process (started by the first request it
   serves; `MAIL_DELIVERY_IN_WEB`), or in `manage.py deliver_mail` at scale. Both run
   `delivery_loop`: wake on a commit that queued mail in this process, else poll every
   `MAIL_POLL_SECONDS` (2 s), so a message reaches a working SMTP server within seconds.
3. Exactly one worker sends a message, however many threads, processes and instances poll:
   a worker claims a row with a conditional UPDATE (`claim_token`, `claimed_until`) that
   only matches an unclaimed row or an expired lease. On PostgreSQL the candidate is first
   picked with SELECT ... FOR UPDATE SKIP LOCKED, so workers do not queue behind each other;
   SQLite has no row locks or SKIP LOCKED, and there the conditional UPDATE alone decides
   (its writes are serialised). No lock is held while talking to SMTP: on SQLite that would
   be the database-wide write lock, and a hanging SMTP server would stall every request.
4. SMTP down, refusing or hanging: each attempt gives up after `EMAIL_TIMEOUT` (Django's SMTP
   backend puts it on the socket), the message goes back to pending with a backoff of
   2, 4, 8 ... capped at `MAIL_RETRY_MAX_SECONDS` (30 s), so it is delivered within about
   that long (plus one timeout) after the server answers again, without a restart. A 5xx
   refusal of the recipient or message is final: the row becomes `failed` (visible in the
   admin), because retrying a permanent refusal would never end.
5. A worker that dies mid-send leaves its claim to expire (`claimed_until`, 3 x EMAIL_TIMEOUT
   + 30 s); the message is then sent by someone else. That is the one case where a message
   can arrive twice (the SMTP server took it, the worker died before recording it).
6. Message bodies hold one-time links: they are never logged (log lines carry the row id
   and the recipient's domain only) and are blanked once the message is sent.
"""
from __future__ import annotations

import logging
import os
import smtplib
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import close_old_connections, connection, transaction
from django.db.models import Q

from apps.core import clock, metrics
from apps.core.service_checks import TIMEOUT_SECONDS as CHECK_TIMEOUT_SECONDS
from apps.mail.models import MailStatus, OutboundMail

logger = logging.getLogger(__name__)

BATCH_SIZE = 20
SENT_PRUNE_INTERVAL_SECONDS = 3600


def mail_queue(*, to: str, subject: str, body: str, html_body: str | None = None) -> None:
    """Record one message for delivery, inside the caller's transaction (if any).

    Returns at once: delivery is never on the request path. From `DEFAULT_FROM_EMAIL`.
    """
    row = OutboundMail.objects.create(
        to=to, from_email=settings.DEFAULT_FROM_EMAIL, subject=subject[:255], body=body,
        html_body=html_body or "", next_attempt_at=clock.now(),
    )
    logger.info("Mail %s queued for @%s", row.pk, _domain(to))
    transaction.on_commit(_wake)


def mail_pending_count() -> int:
    """Messages not yet delivered (the `mail_queue_pending` gauge reads this at each scrape)."""
    return OutboundMail.objects.filter(status=MailStatus.PENDING).count()


def mail_pending_gauge_refresh() -> None:
    """Set the `mail_queue_pending` gauge from the table (a scrape-time hook of /metrics)."""
    metrics.mail_queue_pending.set(mail_pending_count())


# --- delivery ------------------------------------------------------------------------------
def _domain(address: str) -> str:
    return address.rpartition("@")[2][:100]


def _lease() -> timedelta:
    return timedelta(seconds=3 * float(settings.EMAIL_TIMEOUT) + 30)


def _backoff_seconds(attempts: int) -> float:
    return float(min(2 ** max(attempts, 1), settings.MAIL_RETRY_MAX_SECONDS))


def _due(now):
    return OutboundMail.objects.filter(status=MailStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _claim_one():
    """Claim the next due message for this worker, or None (guarantee 3)."""
    now = clock.now()
    token = uuid.uuid4().hex
    if not _due(now).exists():  # the idle poll: a plain read, no write lock (SQLite) taken
        return None
    with transaction.atomic():
        candidates = _due(now).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:1])
        if not ids:
            return None
        claimed = _due(now).filter(id=ids[0]).update(claim_token=token, claimed_until=now + _lease())
    if claimed != 1:  # another worker claimed it between our read and our write (SQLite)
        return False
    return OutboundMail.objects.filter(id=ids[0], claim_token=token).first()


def _smtp_code(exc: BaseException) -> int | None:
    """The server's reply code (never its text: it may echo the recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None


def _permanent(exc: BaseException) -> bool:
    """A 5xx reply: the server refuses this message for good (RFC 5321 section 4.2.1)."""
    code = _smtp_code(exc)
    return code is not None and 500 <= code < 600


def _finish(row, **fields) -> None:
    # Only the claim holder records the outcome (a worker whose lease expired does not).
    OutboundMail.objects.filter(id=row.id, claim_token=row.claim_token).update(
        claim_token="", claimed_until=None, **fields
    )


def _send(row, smtp) -> bool:
    """Send one claimed message and record the outcome. False when the server is down,
    hangs or dropped us (the pass should end), True otherwise."""
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.body, from_email=row.from_email, to=[row.to], connection=smtp,
    )
    if row.html_body:
        message.attach_alternative(row.html_body, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - every failure is kept; none may kill the worker
        attempts = row.attempts + 1
        error = f"{type(exc).__name__} {_smtp_code(exc) or ''}".strip()[:200]
        if _permanent(exc):
            logger.error("Mail %s to @%s refused for good (%s)", row.id, _domain(row.to), error)
            _finish(row, status=MailStatus.FAILED, attempts=attempts, last_error=error)
            return True  # a message-level refusal: the connection is still good
        delay = _backoff_seconds(attempts)
        logger.warning("Mail %s to @%s not delivered (attempt %s, %s); retry in %ss",
                       row.id, _domain(row.to), attempts, error, delay)
        _finish(row, attempts=attempts, last_error=error,
                next_attempt_at=clock.now() + timedelta(seconds=delay))
        return False
    _finish(row, status=MailStatus.SENT, sent_at=clock.now(), attempts=row.attempts + 1,
            last_error="", body="", html_body="")
    logger.info("Mail %s delivered to @%s", row.id, _domain(row.to))
    return True


def mail_deliver_due(*, limit: int = BATCH_SIZE) -> int:
    """One pass: deliver up to `limit` due messages over one SMTP connection.

    Returns how many were attempted. A failure that is not the message's own fault (the
    server is down, hangs or drops us) ends the pass: the next message would only wait for
    the same timeout.
    """
    attempted = 0
    smtp = get_connection(fail_silently=False, timeout=float(settings.EMAIL_TIMEOUT))
    try:
        while attempted < limit:
            row = _claim_one()
            if row is None:
                break
            if row is False:
                continue
            attempted += 1
            if not _send(row, smtp):
                break
    finally:
        try:
            smtp.close()
        except Exception:  # closing a broken connection must not hide the pass's outcome
            logger.debug("SMTP connection close failed", exc_info=True)
    return attempted


def smtp_check() -> str | None:
    """`manage.py check_services`' SMTP line (registered in MailConfig.ready): connect,
    STARTTLS/SSL and log in as the app sends, within the check timeout; None without
    EMAIL_HOST (console backend: nothing to check)."""
    if not settings.EMAIL_HOST:
        return None
    connection = get_connection(timeout=min(float(settings.EMAIL_TIMEOUT or CHECK_TIMEOUT_SECONDS),
                                            CHECK_TIMEOUT_SECONDS))
    try:
        connection.open()
    finally:
        connection.close()
    return f"reachable (port {settings.EMAIL_PORT})"


def mail_prune_sent(*, older_than_days: int | None = None) -> int:
    """Delete delivered rows older than MAIL_KEEP_SENT_DAYS (their bodies are already blank)."""
    days = settings.MAIL_KEEP_SENT_DAYS if older_than_days is None else older_than_days
    deleted, _ = OutboundMail.objects.filter(
        status=MailStatus.SENT, sent_at__lt=clock.now() - timedelta(days=days)
    ).delete()
    return deleted


# --- the delivery loop (thread in the web process, or the deliver_mail command) -----------
_wake_event = threading.Event()
_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_thread_pid: int | None = None
_stop_event = threading.Event()


def _wake() -> None:
    """After a commit that queued mail: this process's delivery loop (if it has one) runs a
    pass now instead of at its next poll. Never starts a thread: a management command or a
    shell that queues mail must not start delivering and then exit holding claims."""
    _wake_event.set()


def delivery_loop(*, stop: threading.Event | None = None) -> None:
    """Deliver until `stop` is set: a pass, then wait for a wake-up or MAIL_POLL_SECONDS."""
    stop = stop or threading.Event()
    last_prune = 0.0
    failures = 0
    while not stop.is_set():
        attempted = 0
        try:
            close_old_connections()
            attempted = mail_deliver_due()
            if time.monotonic() - last_prune > SENT_PRUNE_INTERVAL_SECONDS:
                last_prune = time.monotonic()
                mail_prune_sent()
            failures = 0
        except Exception:  # a database outage must not end delivery for good
            failures += 1
            if failures == 1:
                logger.exception("Mail delivery pass failed; retrying")
            else:  # one traceback per outage, not one per poll per worker
                logger.warning("Mail delivery pass failed again (%d in a row)", failures)
        finally:
            close_old_connections()
        if attempted == 0:
            # Polls slow down while the database fails (up to 10 polls' worth), not while idle.
            _wake_event.wait(timeout=float(settings.MAIL_POLL_SECONDS) * min(1 + failures, 10))
            _wake_event.clear()


def delivery_thread_ensure_started() -> None:
    """Start this process's delivery thread once (again after a fork: threads do not survive)."""
    global _thread, _thread_pid
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        return
    with _thread_lock:
        if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
            return
        _stop_event.clear()
        _thread = threading.Thread(
            target=delivery_loop, kwargs={"stop": _stop_event}, name="mail-delivery", daemon=True,
        )
        _thread_pid = os.getpid()
        _thread.start()
        logger.info("Mail delivery thread started in process %s", _thread_pid)


def delivery_thread_ensure_started_signal(**_kwargs) -> None:
    delivery_thread_ensure_started()


def delivery_thread_stop(timeout: float = 5.0) -> None:
    """Stop this process's delivery thread (tests)."""
    global _thread
    _stop_event.set()
    _wake_event.set()
    if _thread is not None:
        _thread.join(timeout=timeout)
    _thread = None
