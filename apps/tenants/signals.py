"""Deactivating a tenant, by any path (API, admin, shell), revokes every session and access
token of its users durably (rule 3), as apps/accounts/signals.py does for one user."""
from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from apps.accounts.models import User
from apps.accounts.signals import mailbox_proven, note_deactivation
from apps.tenants.models import Tenant

pre_save.connect(note_deactivation, sender=Tenant, dispatch_uid="tenant-note-deactivation")


@receiver(post_save, sender=Tenant)
def _revoke_deactivated_tenant(sender, instance: Tenant, **_):
    if getattr(instance, "_deactivating", False):
        from apps.accounts.services import RevokeReason, sessions_revoke_for_user

        instance._deactivating = False
        for user in User.objects.filter(tenant=instance):
            sessions_revoke_for_user(user=user, reason=RevokeReason.TENANT_DEACTIVATED)


@receiver(mailbox_proven, dispatch_uid="tenants-unproven-setup-end")
def _end_unproven_setup(sender, user: User, ip=None, user_agent=None, **_):
    from apps.tenants.services.takeover import unproven_setup_end

    unproven_setup_end(user=user, ip=ip, user_agent=user_agent)
