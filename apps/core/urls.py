"""Routes of the plumbing: health checks and metrics (both without the /api/ prefix)."""
from django.urls import path, re_path

from apps.core import health
from apps.core.metrics_view import metrics_view

urlpatterns = [
    re_path(r"^health/?$", health.health, name="health"),
    re_path(r"^health/live/?$", health.live, name="health-live"),
    path("metrics", metrics_view, name="metrics"),
]
