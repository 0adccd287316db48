"""Browser forms of API keys: create, edit and roll (the same limits as the API's inputs).

Each form's `service_arguments()` is what it passes to apikeys.services, so a new field is one
form field plus one entry there. Scopes and addresses are checked by apikeys.scopes, so pages,
admin and API give the same messages.
"""

import re
from datetime import timedelta

from django import forms
from django.utils import timezone

from apikeys import scopes as key_scopes
from apikeys.services import MAX_ROLL_OVERLAP_SECONDS
from parsalink.core.permissions import ALL_SCOPES

EXPIRY_CHOICES = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In 1 year"),
]
OVERLAP_CHOICES = [
    (0, "Stop the old key now"),
    (3600, "Keep the old key working for 1 hour"),
    (86400, "Keep the old key working for 1 day"),
    (MAX_ROLL_OVERLAP_SECONDS, "Keep the old key working for 7 days"),
]


SCOPE_CHOICES = [(scope, scope) for scope in ALL_SCOPES]
_ADDRESS_SEPARATORS = re.compile(r"[\s,]+")


def _checked(check, value, field: str) -> list[str]:
    """`check(value)` from apikeys.scopes, its message as the form field's error."""
    try:
        return check(value)
    except key_scopes.InvalidKeySettings as error:
        raise forms.ValidationError((error.fields or {}).get(field, [error.detail])) from None


class KeySettingsFields(forms.Form):
    """Scopes (checkboxes, all checked for a new key) and allowed addresses (a textarea)."""

    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=list(ALL_SCOPES),
        required=False,
        help_text="What the key may do. At least one.",
    )
    allowed_ips = forms.CharField(
        label="Allowed addresses",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="IPv4 or IPv6 addresses or CIDR ranges, one per line (up to 50). "
        "Empty: any address.",
    )

    def clean_scopes(self) -> list[str]:
        return _checked(key_scopes.clean_scopes, list(self.cleaned_data["scopes"]), "scopes")

    def clean_allowed_ips(self) -> list[str]:
        entries = [e for e in _ADDRESS_SEPARATORS.split(self.cleaned_data["allowed_ips"]) if e]
        return _checked(key_scopes.clean_allowed_ips, entries, "allowedIps")

    def settings_arguments(self) -> dict:
        return {
            "scopes": self.cleaned_data["scopes"],
            "allowed_ips": self.cleaned_data["allowed_ips"],
        }


class ApiKeyCreateForm(KeySettingsFields):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, e.g. “Zapier Integration” or “Internal Dashboard”.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )

    field_order = ["name", "expires_in_days", "scopes", "allowed_ips"]

    def service_arguments(self) -> dict:
        days = self.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        return {
            "name": self.cleaned_data["name"],
            "expires_at": expires_at,
            **self.settings_arguments(),
        }


class ApiKeyEditForm(KeySettingsFields):
    """Name, scopes and addresses of an existing key (api_key_update records what changed)."""

    name = forms.CharField(label="Name", max_length=100)

    field_order = ["name", "scopes", "allowed_ips"]

    @classmethod
    def for_key(cls, api_key, data=None) -> "ApiKeyEditForm":
        initial = {
            "name": api_key.name,
            "scopes": list(api_key.scopes),
            "allowed_ips": "\n".join(api_key.allowed_ips),
        }
        return cls(data, initial=initial)

    def service_arguments(self) -> dict:
        return {"name": self.cleaned_data["name"], **self.settings_arguments()}


class ApiKeyRollForm(forms.Form):
    expires_in = forms.TypedChoiceField(
        label="The old key",
        choices=OVERLAP_CHOICES,
        coerce=int,
        initial=86400,
        widget=forms.RadioSelect,
        help_text="Time to move your integrations to the new key.",
    )

    def service_arguments(self) -> dict:
        return {"overlap_seconds": self.cleaned_data["expires_in"]}
