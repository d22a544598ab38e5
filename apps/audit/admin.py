from django.contrib import admin

from apps.audit.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: the record of what happened is never written or edited by hand."""

    list_display = ["created_at", "type", "user_id", "tenant_id", "session_id", "ip"]
    list_filter = ["type", "created_at"]
    search_fields = ["=user_id", "=tenant_id", "=session_id", "ip"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
