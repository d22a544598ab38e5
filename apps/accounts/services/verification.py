"""Email verification: the token, sending the link, and verifying.

Guarantees, and why they hold
-----------------------------
1. A verification token names its user and proves nothing else: Django's `signing`
   (`TimestampSigner`, HMAC-SHA256 keyed on SECRET_KEY, checked against SECRET_KEY_FALLBACKS
   too) over the user's uid, `<uid>.<timestamp>.<signature>`. The signer's salt holds the
   user id, the email and the current `email_verified`, so it works once (verifying flips
   `email_verified`, which changes the key), dies if the email changes, and expires after
   EMAIL_VERIFY_TIMEOUT_SECONDS (`max_age`). Nothing is stored. Every failure is the same
   400 `invalid_token`.
2. Sending only records the message (`apps.mail.services.mail_queue`) in the caller's
   transaction: a request never waits for SMTP.
3. A refused login of an unverified account (EMAIL_VERIFICATION=mandatory) re-sends the
   link unless one was queued in the last 60 s: the claim is one conditional UPDATE of
   `email_verification_sent_at`, so concurrent refused logins queue one message, not several.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.accounts import emails
from apps.accounts.models import User
from apps.accounts.signals import mailbox_proven
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core import clock
from apps.core.exceptions import InvalidOneTimeToken
from apps.mail.services import mail_queue

logger = logging.getLogger(__name__)

KEY_SALT = "apps.accounts.services.verification.EmailVerificationToken"
RESEND_QUIET_SECONDS = 60
TOKEN_MAX_LENGTH = 256


def uid_encode(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def uid_decode(uid: str) -> str | None:
    """The user id a `uid` names, or None for anything that is not one."""
    try:
        return urlsafe_base64_decode(uid).decode("ascii")
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def user_for_uid(uid: str) -> User | None:
    import uuid

    raw = uid_decode(uid) if isinstance(uid, str) and len(uid) <= 64 else None
    try:
        user_id = uuid.UUID(raw) if raw else None
    except ValueError:
        return None
    return User.objects.select_related("tenant").filter(pk=user_id).first() if user_id else None


def _signer(user: User) -> signing.TimestampSigner:
    """Keyed on the user's current state through the salt (guarantee 1). "." separates: the
    token is URL-safe as it is ([A-Za-z0-9_-] and dots)."""
    salt = f"{KEY_SALT}:{user.pk}:{user.email}:{bool(user.email_verified)}"
    return signing.TimestampSigner(salt=salt, sep=".", algorithm="sha256")


def verification_token_make(user: User) -> str:
    return _signer(user).sign(uid_encode(user))


def verification_token_user(token: str) -> User | None:
    """The user this token verifies right now, or None (used, expired, tampered, unknown)."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH or token.count(".") != 2:
        return None
    user = user_for_uid(token.partition(".")[0])
    if user is None or not user.is_active:
        return None
    try:  # SignatureExpired is a BadSignature; SECRET_KEY_FALLBACKS are tried by the signer
        _signer(user).unsign(token, max_age=settings.EMAIL_VERIFY_TIMEOUT_SECONDS)
    except signing.BadSignature:
        return None
    return user


def email_verification_send(*, user: User) -> None:
    """Queue a verification email to the user (in the caller's transaction)."""
    mail_queue(**emails.email_verification_email(user=user, token=verification_token_make(user)))
    User.objects.filter(pk=user.pk).update(email_verification_sent_at=clock.now())
    logger.info("Verification email queued for user %s", user.id)


@transaction.atomic
def email_verification_send_unless_recent(*, user: User) -> bool:
    """Queue a verification email unless one was queued in the last 60 s (guarantee 3)."""
    now = clock.now()
    claimed = User.objects.filter(pk=user.pk).filter(
        Q(email_verification_sent_at__isnull=True)
        | Q(email_verification_sent_at__lte=now - timedelta(seconds=RESEND_QUIET_SECONDS))
    ).update(email_verification_sent_at=now)
    if claimed:
        mail_queue(**emails.email_verification_email(user=user, token=verification_token_make(user)))
        logger.info("Verification email re-sent to user %s after a refused login", user.id)
    return bool(claimed)


@transaction.atomic
def email_verification_resend(*, user: User) -> None:
    """POST /email/verify/resend/: a new link, unless the address is already verified."""
    if User.objects.filter(pk=user.pk, email_verified=True).exists():
        return
    email_verification_send(user=user)


@transaction.atomic
def email_verify(*, token: str, ip: str | None, user_agent: str | None) -> User:
    """Mark the token's user verified; InvalidOneTimeToken (400 invalid_token) otherwise.

    The check is repeated on the locked row, so two concurrent uses of one token verify once.
    """
    found = verification_token_user(token)
    if found is None:
        raise InvalidOneTimeToken()
    user = User.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=found.pk)
    if user.email_verified or verification_token_user(token) is None:
        raise InvalidOneTimeToken()
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    event_record(type=EventType.EMAIL_VERIFIED, user=user, ip=ip, user_agent=user_agent)
    mailbox_proven.send(sender=User, user=user, ip=ip, user_agent=user_agent)  # first verification
    logger.info("Email verified for user %s", user.id)
    return user
