from rest_framework import serializers

from apps.audit.models import SecurityEvent


class EventOutput(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = ["id", "type", "created_at", "ip", "user_agent", "user_id", "session_id", "detail"]
        read_only_fields = fields
