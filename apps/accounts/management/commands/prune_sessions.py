from django.core.management.base import BaseCommand

from apps.accounts.services import sessions_prune
from apps.audit.services import events_prune


class Command(BaseCommand):
    help = (
        "Delete refresh sessions whose tokens can no longer be used (expired or revoked), "
        "and security events older than SECURITY_EVENT_RETENTION_DAYS."
    )

    def handle(self, *args, **options):
        deleted = sessions_prune()
        self.stdout.write(f"Pruned {deleted} session(s).")
        events = events_prune()
        self.stdout.write(f"Pruned {events} security event(s).")
