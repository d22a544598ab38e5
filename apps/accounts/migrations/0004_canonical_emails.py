"""Existing addresses to their canonical form (apps/accounts/managers.canonical_email).

Two rows whose addresses share a canonical form are a collision: neither is changed, nothing
is merged, and each collision is reported (printed and logged at WARNING, by user ids) for an
operator to resolve. Reversible as a no-op: the old forms are not kept.
"""
import logging
import sys
from collections import defaultdict

from django.db import migrations

logger = logging.getLogger("apps.accounts.migrations")


def canonicalise(apps, schema_editor):
    from apps.accounts.managers import canonical_email

    User = apps.get_model("accounts", "User")
    rows = list(User.objects.order_by("date_joined", "id").values_list("id", "email"))
    by_canonical = defaultdict(list)
    for user_id, email in rows:
        by_canonical[canonical_email(email)].append((user_id, email))
    for canonical, owners in by_canonical.items():
        if len(owners) > 1:
            ids = ", ".join(str(user_id) for user_id, _ in owners)
            message = f"canonical email collision: users {ids} share one canonical address; left unchanged"
            print(message, file=sys.stderr)
            logger.warning(message)
            continue
        [(user_id, email)] = owners
        if email != canonical:
            User.objects.filter(pk=user_id).update(email=canonical)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_password_reset_generation'),
    ]

    operations = [
        migrations.RunPython(canonicalise, migrations.RunPython.noop),
    ]
