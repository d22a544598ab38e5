from django import forms
from django.contrib import admin, messages

from apps.tenants import services
from apps.tenants.models import Tenant
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
