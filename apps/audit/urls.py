"""Routes of audit, full paths (config/urls.py includes each app's at the root)."""
from django.urls import path

from apps.audit import views

urlpatterns = [
    path("api/auth/events/", views.MyEventListView.as_view(), name="auth-events"),
    path("api/tenants/current/events/", views.TenantEventListView.as_view(), name="tenant-events"),
]
