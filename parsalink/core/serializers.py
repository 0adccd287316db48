"""Serializer helpers shared by every app."""

from datetime import UTC, datetime

from rest_framework import serializers


def iso_datetime(value: datetime | None) -> str | None:
    """What DRF's DateTimeField writes with USE_TZ and TIME_ZONE = "UTC": ISO 8601, `Z` for
    UTC. For output written without a serializer (a list page of fixed fields)."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class StrictSerializer(serializers.Serializer):
    """Rejects unknown fields with a 400 instead of silently ignoring them (typos surface)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(
                set(data) - {name for name, f in self.fields.items() if not f.read_only}
            )
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            # DRF's CharField turns a JSON number into its text ("phone": 123 -> "123"); the
            # schema says string, so a number is a 400 like any other wrong type.
            not_text = {
                name: ["Not a valid string."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and data.get(name) is not None
                and not isinstance(data[name], str)
            }
            if not_text:
                raise serializers.ValidationError(not_text)
            # The schema's maxLength is the length sent; DRF checks it after trimming whitespace,
            # so " " + 100 characters would pass. Check the text as sent, as the schema says.
            too_long = {
                name: [field.error_messages["max_length"].format(max_length=field.max_length)]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and field.max_length is not None
                and isinstance(data.get(name), str)
                and len(data[name]) > field.max_length
            }
            if too_long:  # reported with the other fields' errors
                try:
                    super().to_internal_value(data)
                except serializers.ValidationError as exc:
                    raise serializers.ValidationError({**exc.detail, **too_long}) from None
                raise serializers.ValidationError(too_long)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass
