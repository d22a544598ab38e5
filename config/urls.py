"""Routes: admin, health checks, the API, and its schema and docs."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.accounts.views import JwksView
from apps.audit.views import MyEventListView, TenantEventListView
from apps.core import health
from apps.core.metrics_view import metrics_view
from apps.core.views import not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", health.health, name="health"),
    re_path(r"^health/live/?$", health.live, name="health-live"),
    path("metrics", metrics_view, name="metrics"),
    path("api/auth/events/", MyEventListView.as_view(), name="auth-events"),
    path("api/tenants/current/events/", TenantEventListView.as_view(), name="tenant-events"),
    path("api/auth/", include("apps.accounts.urls")),
    path("api/tenants/", include("apps.tenants.urls")),
    path(".well-known/jwks.json", JwksView.as_view(), name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html"), name="redoc"),
    # Last: unknown paths under /api/, /health and /.well-known answer JSON 404, in DEBUG too.
    re_path(r"^(?:api|health|\.well-known)(?:/.*)?$", not_found),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
