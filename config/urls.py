"""Routes: the admin, each app's own routes (its urls.py, full paths), the schema and docs."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.csp import with_policy
from apps.core.views import not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.core.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.tenants.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs pages carry apps/core/csp.py's policy; Swagger UI's start-up script is served as a
    # file (?script) instead of inline, so the policy needs no inline script.
    path("api/docs/", with_policy(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", with_policy(SpectacularRedocView.as_view(url_name="schema", template_name="core/redoc.html")), name="redoc"),
    # Last: unknown paths under /api/, /health and /.well-known answer JSON 404, in DEBUG too.
    re_path(r"^(?:api|health|\.well-known)(?:/.*)?$", not_found),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
