"""Deactivating a user or tenant, by any path (API, admin, shell), revokes their sessions
and access tokens durably: re-activation later does not bring old tokens back (rule 3).
Deletion needs nothing here: sessions cascade with the user, so its tokens find no session.
"""
from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from apps.accounts.models import User
from apps.tenants.models import Tenant


def _was_active(model, instance) -> bool:
    if instance._state.adding or instance.pk is None:
        return False
    return model.objects.filter(pk=instance.pk, is_active=True).exists()


@receiver(pre_save, sender=User)
@receiver(pre_save, sender=Tenant)
def _note_deactivation(sender, instance, update_fields=None, **_):
    if update_fields is not None and "is_active" not in update_fields:
        return
    # Only a save that turns is_active off costs the extra query.
    instance._deactivating = not instance.is_active and _was_active(sender, instance)


@receiver(post_save, sender=User)
def _revoke_deactivated_user(sender, instance: User, **_):
    if getattr(instance, "_deactivating", False):
        from apps.accounts.services import RevokeReason, sessions_revoke_for_user

        instance._deactivating = False
        sessions_revoke_for_user(user=instance, reason=RevokeReason.USER_DEACTIVATED)


@receiver(post_save, sender=Tenant)
def _revoke_deactivated_tenant(sender, instance: Tenant, **_):
    if getattr(instance, "_deactivating", False):
        from apps.accounts.services import RevokeReason, sessions_revoke_for_user

        instance._deactivating = False
        for user in User.objects.filter(tenant=instance):
            sessions_revoke_for_user(user=user, reason=RevokeReason.TENANT_DEACTIVATED)
