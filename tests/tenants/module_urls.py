"""Test-only routes: a view gated on the "crm" module, as a product feature would be."""
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenants.permissions import HasTenant, HasTenantModule


class CrmView(APIView):
    """Stands in for any feature behind a tenant module."""

    permission_classes = [IsAuthenticated, HasTenantModule("crm")]

    def get(self, request):
        return Response({"module": "crm", "tenant": request.user.tenant.slug})


class CrmOnlyModuleView(CrmView):
    """The module permission on its own, as a hurried developer might wire it."""

    permission_classes = [HasTenantModule("crm")]


class TenantOnlyView(CrmView):
    """HasTenant on its own."""

    permission_classes = [HasTenant]


urlpatterns = [
    path("api/crm/", CrmView.as_view()),
    path("api/crm-only-module/", CrmOnlyModuleView.as_view()),
    path("api/tenant-only/", TenantOnlyView.as_view()),
]
