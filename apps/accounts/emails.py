"""The account emails (reset, verification): subject, plain-text body, HTML alternative.

Links are the frontend's pages (PASSWORD_RESET_URL, EMAIL_VERIFY_URL, with `{uid}`/`{token}`
filled in by `apps.core.links.link`), never the API's: the frontend shows the form and calls the API.
The link sits on a line of its own in the plain-text body, so any mail client can open it.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.html import escape

from apps.accounts.models import User
from apps.core.links import link


def _html(paragraphs: list[str], url: str, after: list[str]) -> str:
    before = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    tail = "".join(f"<p>{escape(p)}</p>" for p in after)
    return f'{before}<p><a href="{escape(url)}">{escape(url)}</a></p>{tail}'


def _message(*, user: User, subject: str, intro: list[str], url: str, outro: list[str]) -> dict[str, str]:
    body = "\n\n".join([*intro, url, *outro]) + "\n"
    return {"to": user.email, "subject": subject, "body": body, "html_body": _html(intro, url, outro)}


def password_reset_email(*, user: User, uid: str, token: str) -> dict[str, str]:
    """kwargs for `mail_queue`."""
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    return _message(
        user=user,
        subject="Reset your password",
        intro=[
            "Hello,",
            f"Someone asked to reset the password of the account {user.email}. "
            f"To choose a new password, open this link (it works once, within {minutes} minutes):",
        ],
        url=link(settings.PASSWORD_RESET_URL, uid=uid, token=token),
        outro=["If you did not ask for this, ignore this email: your password stays as it is."],
    )


def email_verification_email(*, user: User, token: str) -> dict[str, str]:
    """kwargs for `mail_queue`."""
    hours = max(1, settings.EMAIL_VERIFY_TIMEOUT_SECONDS // 3600)
    return _message(
        user=user,
        subject="Confirm your email address",
        intro=[
            "Hello,",
            f"Please confirm that {user.email} is your email address by opening this link "
            f"(it works once, within {hours} hours):",
        ],
        url=link(settings.EMAIL_VERIFY_URL, token=token),
        outro=["If you did not create an account, ignore this email."],
    )
