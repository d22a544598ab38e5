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
        from apps.accounts.keys import connect_signals

        connect_signals()  # tests that override JWT_* settings get a fresh key ring
