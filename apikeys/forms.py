"""Browser forms of API keys: create and roll (the same limits as the API's inputs).

Each form's `service_arguments()` is what it passes to apikeys.services, so a new field (scopes,
allowed addresses) is one form field plus one entry there.
"""

from datetime import timedelta

from django import forms
from django.utils import timezone

from apikeys.services import MAX_ROLL_OVERLAP_SECONDS

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


class ApiKeyCreateForm(forms.Form):
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

    def service_arguments(self) -> dict:
        days = self.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        return {"name": self.cleaned_data["name"], "expires_at": expires_at}


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
