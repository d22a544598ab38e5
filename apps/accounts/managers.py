from __future__ import annotations

import contextlib
import re
import unicodedata
from typing import Any

from django.contrib.auth.base_user import BaseUserManager

# A dot-atom local part (RFC 5322), ASCII only: no quotes, no spaces, no comments, no empty
# labels. Anything else is "exotic": mail systems disagree on where it goes.
_LOCAL_PART = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
EMAIL_REFUSED = "Enter a plain email address: no quotes, invisible characters or unusual symbols."


def canonical_email(email: str) -> str:
    """The one form of an address, for uniqueness, lookups, throttle keys and sending.

    NFKC first (a ligature `ﬁ` is `fi`, fullwidth letters are ASCII), then trimmed and
    lower-cased (the contract compares emails without regard to case), and the domain in its
    IDNA (ASCII) form. Never raises: raw client input reaches throttle keys before validation;
    what cannot be encoded is kept as it is, and `email_problem` refuses it at the door.
    """
    text = unicodedata.normalize("NFKC", email or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    with contextlib.suppress(UnicodeError):  # left as it is; email_problem refuses it
        domain = domain.encode("idna").decode("ascii").lower()
    return f"{local}@{domain}"


def email_problem(email: str) -> str | None:
    """Why an address may not be used for an account (400 `invalid`), or None: an invisible
    or format character (category Cf: soft hyphen, zero-width, bidi controls) anywhere, or a
    local part that is not a plain dot-atom once canonical (quoted, `"victim@x"@evil.example`,
    spaces, non-ASCII)."""
    if any(unicodedata.category(c) in ("Cf", "Cc") for c in email or ""):
        return EMAIL_REFUSED
    local, at, domain = canonical_email(email).rpartition("@")
    if not at or not domain or not _LOCAL_PART.fullmatch(local) or len(local) > 64:
        return EMAIL_REFUSED
    try:
        domain.encode("ascii")
    except UnicodeError:
        return EMAIL_REFUSED
    return None


# Every caller (save(), lookups, throttles, invitations) canonicalises through this name.
normalize_email = canonical_email


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> Any:
        return self.get(email=normalize_email(email))

    def _create_user(self, email: str, password: str | None, **extra: Any) -> Any:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> Any:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> Any:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if not extra["is_staff"] or not extra["is_superuser"]:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra)
