"""`python manage.py generate_signing_key --algorithm EdDSA|ES256|RS256`: a new key pair.

Prints the PEM private key (for JWT_PRIVATE_KEY), then its PEM public key (what goes into
JWT_PREVIOUS_PUBLIC_KEYS when this key is rotated out). Nothing is written to disk or logged.
"""
from django.core.management.base import BaseCommand

from apps.accounts import keys


class Command(BaseCommand):
    help = "Print a new PEM private key for JWT_PRIVATE_KEY, then its PEM public key (RSA: 3072 bits)."

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", required=True, choices=keys.ASYMMETRIC_ALGORITHMS)

    def handle(self, *args, algorithm: str, **options):
        private_key = keys.generate_private_key(algorithm)
        self.stdout.write(keys.private_pem(private_key), ending="")
        self.stdout.write(keys.public_pem(private_key), ending="")
