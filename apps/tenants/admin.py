from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects
from django.db import router

from apps.accounts.models import User
from apps.core import clock
from apps.tenants import services
from apps.tenants.models import Invitation, Tenant
from apps.tenants.modules import clean_modules


class TenantAdminForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = "__all__"

    def clean_enabled_modules(self) -> list[str]:
        """A list of module names, as the API accepts. A blank box means [] (the column is
        NOT NULL: None here was a 500), and "crm" or {"crm": 1} must not slip in."""
        modules = self.cleaned_data.get("enabled_modules")
        if modules is None:
            return []
        try:
            return clean_modules(modules)
        except ValueError as exc:
            raise forms.ValidationError('A JSON list of module names, e.g. ["crm", "billing"].') from exc


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantAdminForm
    list_display = ["name", "slug", "is_active", "modules_display", "created_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at", "updated_at"]
    fields = ["id", "name", "slug", "enabled_modules", "is_active", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    # Both confirmation pages say that the users are detached and logged out, not deleted.
    delete_confirmation_template = "admin/tenants/tenant/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/tenants/tenant/delete_selected_confirmation.html"

    @admin.display(description="Modules")
    def modules_display(self, tenant: Tenant) -> str:
        return ", ".join(tenant.modules) or "-"

    def _set_active(self, request, queryset, active: bool) -> None:
        # One by one through the service, so deactivation revokes sessions (no .update()).
        for tenant in queryset:
            services.tenant_set_active(tenant=tenant, active=active)
        self.message_user(request, f"{queryset.count()} tenant(s) {'activated' if active else 'deactivated'}.", messages.SUCCESS)

    @admin.action(description="Activate selected tenants")
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected tenants (revokes their users' sessions)")
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    # --- deletion: users are detached (tenant and role null) and logged out, never deleted ---
    def get_deleted_objects(self, objs, request):
        """Django would refuse: User.tenant is PROTECT. Our delete detaches those users first
        (services.tenant_delete), so they are no obstacle; anything else protected still is."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            collector = NestedObjects(using=router.db_for_write(Tenant))
            collector.collect(objs)
            tenant_ids = {t.pk for t in objs}
            if all(isinstance(o, User) and o.tenant_id in tenant_ids for o in collector.protected):
                protected = []
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj: Tenant) -> None:
        services.tenant_delete(tenant=obj)

    def delete_queryset(self, request, queryset) -> None:
        for tenant in queryset:
            services.tenant_delete(tenant=tenant)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are created through the API (the token exists only in the email); here
    they can be inspected, revoked or deleted (either way the link stops working)."""

    list_display = ["email", "tenant", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "created_at", "tenant"]
    list_select_related = ["tenant", "invited_by"]
    search_fields = ["email", "tenant__name", "tenant__slug"]
    readonly_fields = [
        "id", "tenant", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at",
        "accepted_by", "revoked_at", "status",
    ]
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Status")
    def status(self, invitation: Invitation) -> str:
        return invitation.status_at(clock.now())

    @admin.action(description="Revoke selected invitations (their links stop working)")
    def revoke(self, request, queryset):
        count = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=clock.now())
        self.message_user(request, f"{count} invitation(s) revoked.", messages.SUCCESS)
