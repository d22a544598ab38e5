from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from apps.accounts.admin_login import ThrottledAdminAuthenticationForm
from apps.accounts.models import RefreshSession, User
from apps.accounts.services import RevokeReason, session_revoke

# The admin's login: the API's login limits and events (apps/accounts/admin_login.py).
admin.site.login_form = ThrottledAdminAuthenticationForm


class UserCreationAdminForm(UserCreationForm):
    class Meta:
        model = User
        fields = ["email", "tenant", "role"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "tenant", "role", "email_verified", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser", "role", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["email", "first_name", "last_name", "tenant__name", "tenant__slug"]
    readonly_fields = ["id", "date_joined", "last_login", "tokens_valid_after"]
    fieldsets = [
        (None, {"fields": ["id", "email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "email_verified"]}),
        ("Tenant", {"fields": ["tenant", "role"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "tokens_valid_after"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "tenant", "role", "password1", "password2"]}),
    ]


@admin.register(RefreshSession)
class RefreshSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "created_at", "last_used_at", "ip", "revoked_at", "revoked_reason"]
    list_filter = ["revoked_reason", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "ip", "id"]
    # Token state is never edited by hand: revoke with the action.
    readonly_fields = [f.name for f in RefreshSession._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected sessions")
    def revoke(self, request, queryset):
        revoked = sum(session_revoke(session=s, reason=RevokeReason.ADMIN) for s in queryset)
        self.message_user(request, f"{revoked} session(s) revoked.", messages.SUCCESS)
