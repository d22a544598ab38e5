from django.contrib import admin

from apps.mail.models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    """Pending, sent and failed mail, read-only. Bodies are not shown: they carry one-time
    links (password reset, verification) that an admin page must not display."""

    list_display = ["id", "to", "subject", "status", "attempts", "next_attempt_at", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    fields = ["id", "to", "from_email", "subject", "status", "attempts", "last_error", "created_at",
              "next_attempt_at", "claimed_until", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
