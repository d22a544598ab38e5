"""Test-only: the whole service mounted under a sub-path (/svc/), as a project embedding it would."""
from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401

urlpatterns = [path("svc/", include("config.urls"))]
