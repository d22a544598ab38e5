from __future__ import annotations

from rest_framework import serializers

from apps.accounts.serializers import (
    CanonicalEmailField,
    TenantOutput,  # noqa: F401  (the one tenant shape)
)
from apps.tenants.modules import MAX_MODULES, clean_modules


class StrictCharField(serializers.CharField):
    """A JSON string only: a plain CharField would quietly turn 1 into "1"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TenantUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=False, trim_whitespace=True)
    enabled_modules = serializers.ListField(
        child=StrictCharField(max_length=50), required=False, allow_empty=True,
        max_length=MAX_MODULES,
    )

    def validate_enabled_modules(self, modules: list[str]) -> list[str]:
        try:
            return clean_modules(modules)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


# --- teams: invitations and members ---
ROLE_CHOICES = ["owner", "admin", "member"]  # `owner` passes here so the service can answer 403


class InvitationCreateInput(serializers.Serializer):
    email = CanonicalEmailField()
    role = serializers.ChoiceField(
        choices=ROLE_CHOICES, default="member",
        help_text="`admin` or `member` (default). `owner` is refused with 403 permission_denied.",
    )


class InvitationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    invited_by = serializers.UUIDField(source="invited_by_id", allow_null=True, help_text="The inviter's user id.")


class InvitationAcceptInput(serializers.Serializer):
    token = StrictCharField(trim_whitespace=True, allow_blank=True, help_text="The token from the invitation link.")
    password = StrictCharField(
        required=False, write_only=True, trim_whitespace=False, max_length=128,
        style={"input_type": "password"},
        help_text="New account only (no Bearer token): its password.",
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class MemberRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=ROLE_CHOICES, help_text="`admin` or `member`. `owner` is refused with 403 permission_denied.",
    )
