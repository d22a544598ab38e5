"""`python manage.py check_services`: can this deploy serve? For a pre-deploy step.

One line per check (`ok`, `FAIL` or `skip`), exit status 1 if any check failed. The checks,
and what a line may hold, are in apps/core/service_checks.py.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.core.service_checks import CheckFailed, service_checks


class Command(BaseCommand):
    help = "Check the database, migrations, Redis, keys and SMTP; exit 1 if any is not ready."

    requires_system_checks: list = []  # the point is to report, not to stop at the first problem

    def handle(self, *args, **options) -> None:
        failed = []
        for name, check in service_checks():
            try:
                result = check()
            except CheckFailed as exc:
                failed.append(name)
                self.stdout.write(f"FAIL {name}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - any failure is this check's answer
                failed.append(name)
                # The class name only: driver messages can contain the DSN or the password.
                self.stdout.write(f"FAIL {name}: unreachable ({type(exc).__name__})")
                continue
            if result is None:
                self.stdout.write(f"skip {name}: not configured")
            else:
                self.stdout.write(f"ok   {name}: {result}")
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
