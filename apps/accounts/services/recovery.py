"""Password reset by email: request a link, then set a new password with it.

Guarantees, and why they hold
-----------------------------
1. The request answers the same (202, same body) for an unknown email, an inactive account
   and a real one, in about the same time: no password hashing happens on any path, the
   message is only recorded (`mail_queue`, one INSERT) and never sent on the request path.
   The no-account path does the same work: it builds the token and message for a throwaway
   user, and commits a transaction of the same size (two placeholder rows written and
   removed), because the commit (a disk flush) is what a real request pays most for: without
   it the difference was ~30 ms on SQLite (bench/password_reset.py). The throttles (per
   email and per client) also bound how many samples anyone gets.
2. The token is Django's PasswordResetTokenGenerator (HMAC over the user id, the password
   hash, last_login, the email and a timestamp; SECRET_KEY and SECRET_KEY_FALLBACKS) plus
   `password_reset_generation`, bumped when a link is issued: it stops working as soon as the
   password changes (so it works once, and not after a password change by any other path),
   after a successful login (login sets last_login), once a newer link was issued, and after
   PASSWORD_RESET_TIMEOUT (seconds). No token is stored. Every failure is the same 400
   `invalid_token`.
3. A weak new password is refused (Django's validators, 400 `invalid` with
   errors.new_password) before anything changes, so that attempt does not use the link up.
4. A completed reset revokes every session of the user and every access token issued before
   it (`sessions_revoke_for_user`), in the same transaction as the new password, on the
   locked user row; the token is checked again on that row, so two concurrent confirms with
   one link change the password once.
5. Completing a reset proves the mailbox is the user's: `email_verified` becomes true, and
   for an address never verified before, `mailbox_proven` is sent (pre-account hijack: what
   the unproven holder set up is ended, apps/tenants/services/takeover.py).
"""
from __future__ import annotations

import logging

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.db.models import F

from apps.accounts import emails
from apps.accounts.managers import normalize_email
from apps.accounts.models import User
from apps.accounts.passwords import password_validate
from apps.accounts.services import sessions
from apps.accounts.services.verification import uid_encode, user_for_uid
from apps.accounts.signals import mailbox_proven
from apps.audit.models import EventType
from apps.audit.services import event_record
from apps.core.exceptions import InvalidOneTimeToken
from apps.mail.services import mail_queue

logger = logging.getLogger(__name__)

class ResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's generator, plus the user's link generation in the HMAC: a newer link ends
    the earlier ones (guarantee 2). Generation 0 hashes exactly as Django does, so links sent
    before this field existed keep working until the next one is issued. Django's check_token
    hashes through this method for SECRET_KEY and each SECRET_KEY_FALLBACKS alike."""

    def _make_hash_value(self, user, timestamp) -> str:
        value = super()._make_hash_value(user, timestamp)
        generation = getattr(user, "password_reset_generation", 0) or 0
        return value if generation == 0 else f"{value}:{generation}"


token_generator = ResetTokenGenerator()
TOKEN_MAX_LENGTH = 128


def password_reset_request(*, email: str, ip: str | None, user_agent: str | None) -> None:
    """Queue a reset link if an active account uses this email; otherwise do the same work
    and send nothing (guarantee 1). Returns nothing either way."""
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None or not user.is_active or not user.has_usable_password():
        decoy = User(email=normalize_email(email) or "nobody@invalid", password="!")
        _link_generation_bump(decoy)  # the same UPDATE as a real request; it matches no row
        emails.password_reset_email(user=decoy, uid=uid_encode(decoy), token=token_generator.make_token(decoy))
        _commit_like_a_real_request()
        logger.info("Password reset requested for no active account (from %s)", ip)
        return
    with transaction.atomic():
        _link_generation_bump(user)
        mail_queue(**emails.password_reset_email(user=user, uid=uid_encode(user), token=token_generator.make_token(user)))
        event_record(type=EventType.PASSWORD_RESET_REQUESTED, user=user, ip=ip, user_agent=user_agent)
    logger.info("Password reset link queued for user %s", user.id)


def _link_generation_bump(user: User) -> None:
    """One more link issued: every earlier link of this user stops working (guarantee 2).
    Incremented in SQL, so concurrent requests each get their own generation; the new value
    is read back for the token about to be made (a decoy matches no row and stays at 0)."""
    User.objects.filter(pk=user.pk).update(password_reset_generation=F("password_reset_generation") + 1)
    user.password_reset_generation = (
        User.objects.filter(pk=user.pk).values_list("password_reset_generation", flat=True).first() or 0
    )


def _commit_like_a_real_request() -> None:
    """Two rows written and removed in one committed transaction: the same commit as a real
    request's (mail + event), so its cost does not tell accounts apart (guarantee 1). The
    rows are never visible to anyone: they are gone before the commit."""
    from apps.mail.models import MailStatus, OutboundMail

    with transaction.atomic():
        placeholders = [
            OutboundMail.objects.create(to="", from_email="", subject="", status=MailStatus.FAILED)
            for _ in range(2)
        ]
        OutboundMail.objects.filter(id__in=[p.id for p in placeholders]).delete()


def _user_for_link(uid: str, token: str) -> User | None:
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        return None
    user = user_for_uid(uid)
    if user is None or not user.is_active or not token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def password_reset_confirm(
    *, uid: str, token: str, new_password: str, ip: str | None, user_agent: str | None,
) -> User:
    """Set the new password from a reset link (guarantees 2-5)."""
    user = _user_for_link(uid, token)
    if user is None:
        raise InvalidOneTimeToken()
    password_validate(new_password, user=user, field="new_password")
    locked = User.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=user.pk)
    if not locked.is_active or not token_generator.check_token(locked, token):
        raise InvalidOneTimeToken()  # a concurrent confirm used the link first
    locked.set_password(new_password)
    fields = ["password"]
    newly_verified = not locked.email_verified
    if newly_verified:
        locked.email_verified = True
        fields.append("email_verified")
    locked.save(update_fields=fields)
    revoked = sessions.sessions_revoke_for_user(user=locked, reason=sessions.RevokeReason.PASSWORD_RESET)
    event_record(type=EventType.PASSWORD_RESET_COMPLETED, user=locked, ip=ip, user_agent=user_agent)
    if newly_verified:
        event_record(type=EventType.EMAIL_VERIFIED, user=locked, ip=ip, user_agent=user_agent)
        mailbox_proven.send(sender=User, user=locked, ip=ip, user_agent=user_agent)
    logger.info("Password reset completed for user %s (%d session(s) revoked)", locked.id, revoked)
    return locked
