from django.apps import AppConfig


class MailConfig(AppConfig):
    """The outbound mail queue: API and delivery in services.py, the table in models.py."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.mail"
    label = "mail"
    verbose_name = "Outbound mail"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.signals import request_started

        from apps.core.metrics_view import scrape_hook_register
        from apps.core.service_checks import service_check_register
        from apps.mail import services as mail

        scrape_hook_register("the mail queue length", mail.mail_pending_gauge_refresh)
        service_check_register("smtp", mail.smtp_check)
        # The web process delivers by itself: the first request a process serves (runserver,
        # each gunicorn worker after fork; platform health checks count) starts its delivery
        # thread. Never at import or in ready(): a thread started before gunicorn forks would
        # not exist in the workers, and management commands must not start one.
        if settings.MAIL_DELIVERY_IN_WEB:
            request_started.connect(mail.delivery_thread_ensure_started_signal, weak=False,
                                    dispatch_uid="mail-delivery-thread")
