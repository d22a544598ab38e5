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
