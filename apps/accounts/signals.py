"""Deactivating a user, by any path (API, admin, shell), revokes their sessions and access
tokens durably: re-activation later does not bring old tokens back (rule 3). A tenant's
deactivation does the same for its users: apps/tenants/signals.py, with `note_deactivation`.
Deletion needs nothing here: sessions cascade with the user, so its tokens find no session.
"""
from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver

from apps.accounts.models import User

# Sent (inside the transaction) when an account whose address was never verified proves its
# mailbox: a completed password reset or its first email verification. Arguments: `user`,
# `ip`, `user_agent`. Until then, whoever held the account proved nothing, so what it set up
# that grants others access is ended by the receivers (apps/tenants/signals.py: members and
# invitations; accounts never imports tenants, so tenants subscribes here).
mailbox_proven = Signal()


def _was_active(model, instance) -> bool:
    if instance._state.adding or instance.pk is None:
        return False
    return model.objects.filter(pk=instance.pk, is_active=True).exists()


@receiver(pre_save, sender=User)
def note_deactivation(sender, instance, update_fields=None, **_):
    """pre_save of any model with `is_active`: marks `instance._deactivating` when this save
    turns it off, for the post_save receiver that revokes."""
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
