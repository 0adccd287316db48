"""Workspace API keys (only a keyed hash of the secret is stored) and their usage log."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from apikeys.crypto import display_prefix
from apikeys.scopes import default_scopes
from parsalink.core.ids import ID_MAX_LENGTH, PrefixedId


class ApiKey(models.Model):
    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("key"), editable=False
    )
    # Indexed by apikeys_apikey_ws_idx, which starts with it (no separate FK index).
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="api_keys", db_index=False
    )
    name = models.CharField(max_length=100)
    # HMAC-SHA-256(pepper, secret) in hex: fast on purpose, the secret has >= 160 random bits.
    secret_hash = models.CharField(max_length=64)
    # The key's last four characters, for the display prefix `pk_live_01HX…abcd`.
    last_four = models.CharField(max_length=4)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Written at most once a minute per key, so the key row never becomes a hot row.
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Why it was revoked when not by a person ("leak_reported"), and where the leak was found.
    revoked_reason = models.CharField(max_length=20, blank=True, default="")
    revoked_source = models.CharField(max_length=500, blank=True, default="")
    # JSON lists (also on SQLite), read by the one auth lookup; validated by apikeys.scopes.
    scopes = models.JSONField(default=default_scopes)
    # Addresses and CIDR ranges the key may be used from; [] means any address.
    allowed_ips = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            # GET /api/api-keys/: one workspace's keys, newest first.
            models.Index(fields=["workspace", "-id"], name="apikeys_apikey_ws_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def revoked_reason_or_none(self) -> str | None:
        return self.revoked_reason or None

    @property
    def prefix(self) -> str:
        """What lists show instead of the key: `pk_live_01HX…abcd`."""
        return display_prefix(self.id, self.last_four)


class ApiKeyUsage(models.Model):
    """One request that presented a key: the evidence an operator reviews to spot misuse."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by apikeys_usage_key_idx, which starts with it: each usage INSERT maintains as few
    # indexes as possible (no separate FK index and its varchar_pattern_ops twin).
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="usage", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # GET /api/api-keys/{id}/activity/: one key's requests, newest first (cursor on -id).
            models.Index(fields=["api_key", "-id"], name="apikeys_usage_key_idx"),
            # Retention deletes by age in bounded batches.
            models.Index(fields=["created_at"], name="apikeys_usage_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
