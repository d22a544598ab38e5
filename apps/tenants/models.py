from __future__ import annotations

import uuid

from django.db import models


class Tenant(models.Model):
    """An organisation. Users belong to at most one; `enabled_modules` gates product features."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=60, unique=True)
    # NOT NULL with a list default: a None here once turned every login into a 500.
    enabled_modules = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def modules(self) -> list[str]:
        """Always a list: tolerant of rows or instances that predate the NOT NULL fix."""
        return list(self.enabled_modules or [])

    def has_module(self, module: str) -> bool:
        return module in self.modules


class InvitationQuerySet(models.QuerySet):
    def pending(self, *, now) -> InvitationQuerySet:
        """Neither accepted nor revoked, and not yet expired."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """An emailed offer to join a tenant with a role (see tenants/services/invitations.py).

    The token itself is never stored: only its SHA-256 (`token_hash`), which is what an
    accept looks up. A database leak therefore yields no usable link. An invitation is
    pending until it is accepted, revoked (DELETE, or a superseding re-invite after it
    expired) or past `expires_at`; only a pending one can be accepted, once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=10)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open invitation per address and tenant, even under concurrent
            # invites (the service closes expired ones before inviting again).
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="tenants_invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.tenant_id}"

    def status_at(self, moment) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if moment >= self.expires_at else "pending"
