from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.accounts import (
            schema,  # noqa: F401  (OpenAPI auth extension)
            signals,  # noqa: F401  (revocation on deactivation)
        )
        from apps.accounts.checks import keys_check
        from apps.accounts.keys import connect_signals
        from apps.core.service_checks import service_check_register

        connect_signals()  # tests that override JWT_* settings get a fresh key ring
        service_check_register("keys", keys_check)
