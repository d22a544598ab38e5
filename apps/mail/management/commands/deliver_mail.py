from django.core.management.base import BaseCommand

from apps.mail import services as mail


class Command(BaseCommand):
    help = (
        "Deliver queued mail: loop until stopped (a dedicated worker at scale; set "
        "MAIL_DELIVERY_IN_WEB=False on the web service then), or one pass with --once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass over due mail, then exit.")

    def handle(self, *args, once: bool = False, **options):
        if once:
            delivered = mail.mail_deliver_due()
            self.stdout.write(f"Attempted {delivered} message(s).")
            return
        mail.delivery_loop()
