"""Tenant permissions for DRF views."""
from __future__ import annotations

from rest_framework.permissions import BasePermission

from apps.accounts.models import Role
from apps.core.exceptions import ModuleDisabled, NoTenant


class HasTenant(BasePermission):
    """The caller belongs to a tenant (else 404 no_tenant, as /tenants/current/ promises)."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401 not_authenticated, even without IsAuthenticated first
        if request.user.tenant_id is None:
            raise NoTenant()
        return True


class IsTenantAdmin(BasePermission):
    """Owner or admin of their tenant; members get 403 permission_denied."""

    message = "Only the tenant's owner or admins can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user.is_authenticated and user.tenant_id and user.tenant_role in (Role.OWNER, Role.ADMIN))


def HasTenantModule(module: str) -> type[BasePermission]:
    """Gate a view on a module of the caller's tenant, server-side:
    `permission_classes = [IsAuthenticated, HasTenantModule("crm")]` -> 403 module_disabled."""

    class _HasTenantModule(BasePermission):
        def has_permission(self, request, view) -> bool:
            if not request.user.is_authenticated:
                return False  # 401 not_authenticated, not 403 module_disabled
            tenant = getattr(request.user, "tenant", None)
            if tenant is None or not tenant.has_module(module):
                raise ModuleDisabled(f"The '{module}' module is not enabled for your tenant.")
            return True

    _HasTenantModule.__name__ = f"HasTenantModule_{module}"
    return _HasTenantModule
