"""SecurityEvent: the durable record of what happened to an account (contract: "Security events")."""
from __future__ import annotations

import uuid

from django.db import models


class EventType(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    REFRESH_REUSE_DETECTED = "refresh_reuse_detected"
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    SESSION_REVOKED = "session_revoked"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET_COMPLETED = "password_reset_completed"
    EMAIL_VERIFIED = "email_verified"
    INVITATION_SENT = "invitation_sent"
    INVITATION_ACCEPTED = "invitation_accepted"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_REMOVED = "member_removed"
    INVITATION_REVOKED = "invitation_revoked"


class SecurityEvent(models.Model):
    """One event about one user. Never holds a password or a token.

    `user_id`, `tenant_id` and `session_id` are plain UUID columns, not foreign keys: an
    account's history outlives a deleted session, a removed member's tenant link and the
    tenant itself, and writing an event must never take a lock on the user row it describes.
    `tenant_id` is the tenant the user belonged to when it happened, so a tenant's list shows
    its members' events from while they were members.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField()
    user_id = models.UUIDField()
    tenant_id = models.UUIDField(null=True, blank=True)
    session_id = models.UUIDField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    # Ids only, never a secret: e.g. {"actor_id": ...} when someone else acted on this user
    # (their network details stay out of this user's list).
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The two lists page newest first by (created_at, id) within a user or a tenant.
            models.Index(fields=["user_id", "-created_at", "-id"], name="event_user_created_idx"),
            models.Index(fields=["tenant_id", "-created_at", "-id"], name="event_tenant_created_idx"),
            models.Index(fields=["created_at"], name="event_created_idx"),  # pruning
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id} at {self.created_at:%Y-%m-%d %H:%M:%S}"
