"""Test-only routes: the app's URLs plus views that blow up, for the 500 tests.

Used with @pytest.mark.urls / override_settings(ROOT_URLCONF="tests.core.error_urls").
"""
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns

EXPLOSION = "kaboom: the flux capacitor melted"


def plain_view_that_raises(request):
    raise RuntimeError(EXPLOSION)


class DrfViewThatRaises(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(EXPLOSION)


def view_that_raises_quoting_the_query(request):
    """Like a database error that names the value it refused: client input in the message."""
    raise RuntimeError(f"refused value {request.GET.get('q', '')!s}")


urlpatterns = [
    path("api/test-boom/quoting/", view_that_raises_quoting_the_query),
    path("api/test-boom/plain/", plain_view_that_raises),
    path("api/test-boom/drf/", DrfViewThatRaises.as_view()),
    path("health/test-boom/", plain_view_that_raises),
    # The app's routes last: its catch-all would otherwise answer 404 for the paths above.
    *app_urlpatterns,
]
