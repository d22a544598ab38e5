from __future__ import annotations

from rest_framework import serializers

from apps.tenants.models import Tenant
from apps.tenants.modules import MAX_MODULES, clean_modules


class TenantOutput(serializers.ModelSerializer):
    enabled_modules = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "enabled_modules"]

    def get_enabled_modules(self, tenant: Tenant) -> list[str]:
        return tenant.modules


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
