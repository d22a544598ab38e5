from __future__ import annotations

import enum
import uuid
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.managers import UserManager, normalize_email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Refusal(enum.Enum):
    """Why an account may not authenticate (see `User.authentication_refusal`)."""

    USER_INACTIVE = "user_inactive"
    TENANT_INACTIVE = "tenant_inactive"


class User(AbstractBaseUser, PermissionsMixin):
    """Logs in with email. Belongs to at most one tenant, with a role there."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=10, choices=Role.choices, blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Access tokens issued before this instant are rejected (logout-all, password change,
    # deactivation). Whole seconds, because a JWT's iat is (see accounts/tokens.py).
    tokens_valid_after = models.DateTimeField(null=True, blank=True, editable=False)
    # Proven by following a verification link (or an accepted invitation). Accounts made before
    # this field existed, and members added by an owner, start unverified.
    email_verified = models.BooleanField(default=False)
    # When a verification email was last queued: a refused login of an unverified account
    # re-sends one only if none went out in the last 60 s (contract).
    email_verification_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped each time a password reset link is issued; the link's HMAC covers it, so a newer
    # link ends every earlier one (apps/accounts/services/recovery.py, guarantee 2).
    password_reset_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # Belt and braces under save()'s lowercasing: raw writes cannot add a case twin.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def authentication_refusal(self) -> Refusal | None:
        """Why this account may not authenticate now, or None when it may. The one statement of
        the rule "the user is active and their tenant, if any, is active".

        Every way in asks it: login (`services.users.user_authenticate`, which names the
        reason), every access token (`authentication.user_for_access_token`), and every
        refresh (`services.sessions.refresh_verdict`, whose one-statement SQL mirror in
        `session_store.rotate_current` states the same two conditions in its WHERE). A later
        condition (e.g. MFA: an aal1 session in a tenant that requires MFA) is one more
        Refusal member and one more check here (taking the session's level as an argument),
        plus the SQL mirror. Reads `tenant`: load it with the user (select_related).
        """
        if not self.is_active:
            return Refusal.USER_INACTIVE
        if self.tenant_id is not None and not self.tenant.is_active:
            return Refusal.TENANT_INACTIVE
        return None

    def may_authenticate(self) -> bool:
        """`authentication_refusal()` is None: log in, use an access token, refresh."""
        return self.authentication_refusal() is None

    @property
    def tenant_role(self) -> str | None:
        """The role, or None for a user without a tenant (contract: both null together)."""
        if self.tenant_id is None:
            return None
        return self.role or Role.MEMBER

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class RefreshSession(models.Model):
    """One login: the family of refresh tokens descended from it (see accounts/sessions.py).

    The row is the durable record of which refresh token is current. It holds everything
    needed to re-mint the current token byte for byte (jti, iat, exp), so no token is stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_sessions")
    created_at = models.DateTimeField()
    # Absolute end (SESSION_MAX_LIFETIME_DAYS after login), however often it rotates.
    expires_at = models.DateTimeField()
    current_jti = models.CharField(max_length=64)
    current_issued_at = models.DateTimeField()
    current_expires_at = models.DateTimeField(db_index=True)
    # The token just replaced, honoured until rotated_at + grace (contract rule 2).
    previous_jti = models.CharField(max_length=64, blank=True, default="")
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="session_user_revoked_idx")]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_active_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and moment < self.current_expires_at
