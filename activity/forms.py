"""The activity page's filters (a GET form: the filters are in the address, shareable)."""

from django import forms

# The actions the contract names (the filter's choices; no DISTINCT scan of a large table).
ACTIONS = (
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "api_key.created",
    "api_key.updated",
    "api_key.revoked",
    "api_key.rolled",
    "api_key.leak_reported",
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.logout_all",
    "auth.session_revoked",
    "auth.password_changed",
    "auth.password_change_failed",
    "auth.refresh_reuse_detected",
)


class ActivityFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *((a, a) for a in ACTIONS)]
    )
    key = forms.ChoiceField(label="API key", required=False)

    def __init__(self, *args, api_keys=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [("", "Any (or none)")] + [
            (key.pk, f"{key.name} ({key.prefix})") for key in api_keys
        ]

    def selector_arguments(self) -> dict:
        return {
            "action": self.cleaned_data["action"] or None,
            "api_key_id": self.cleaned_data["key"] or None,
        }
