"""OutboundMail: a message recorded by `apps.mail.services.mail_queue`, kept until delivered."""
from __future__ import annotations

from django.db import models
from django.utils import timezone


class MailStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused for good by the SMTP server (5xx): kept for the admin, not retried


class OutboundMail(models.Model):
    """One message to one recipient.

    A row is claimed by a delivery worker through `claim_token`/`claimed_until` (a lease): a
    conditional UPDATE that matches only an unclaimed or expired row, so two workers never
    both own it, on SQLite as on PostgreSQL. The body is blanked once the message is sent:
    it holds one-time links (reset, verification) that must not outlive their delivery.
    """

    to = models.CharField(max_length=254)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound mail"
        verbose_name_plural = "outbound mail"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="mail_due_idx"),
            models.Index(fields=["status", "sent_at"], name="mail_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} to @{self.to.rpartition('@')[2]} ({self.status})"
