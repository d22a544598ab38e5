"""Routes of audit, full paths (config/urls.py includes each app's at the root).
/api/tenants/current/events/ is in apps/tenants/urls.py (tenant permissions are tenants')."""
from django.urls import path

from apps.audit import views

urlpatterns = [
    path("api/auth/events/", views.MyEventListView.as_view(), name="auth-events"),
]
