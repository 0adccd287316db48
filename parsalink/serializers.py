"""Serializer helpers shared by every app."""

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Rejects unknown fields with a 400 instead of silently ignoring them (typos surface)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(
                set(data) - {name for name, f in self.fields.items() if not f.read_only}
            )
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
