from django.core.management.base import BaseCommand

from apps.accounts.services import sessions_prune


class Command(BaseCommand):
    help = "Delete refresh sessions whose tokens can no longer be used (expired or revoked)."

    def handle(self, *args, **options):
        deleted = sessions_prune()
        self.stdout.write(f"Pruned {deleted} session(s).")
