from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core import metrics, request_id

        metrics.known_labels_initialise()  # contract: known label values at 0 from the start

        # Lines logged between requests must not carry the previous request's id.
        request_finished.connect(lambda **_: request_id.set_current(None), weak=False)
