"""The workspace activity log: who did what, through which key, from where."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from parsalink.core.ids import ID_MAX_LENGTH, PrefixedId


class ActivityEvent(models.Model):
    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("evt"), editable=False
    )
    # workspace, actor and api_key are each indexed by a composite index below that starts
    # with them, so they get no separate FK index (fewer indexes for every event INSERT).
    workspace = models.ForeignKey(
        "accounts.Workspace",
        on_delete=models.CASCADE,
        related_name="activity_events",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=False)
    # For API-key requests the workspace's system user; null for anonymous events.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # String reference: activity sits below apikeys and must not import it.
    api_key = models.ForeignKey(
        "apikeys.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Names of the fields a change touched; never values of secrets or passwords.
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            # GET /api/activity/: one workspace, newest first (ids are time-ordered ULIDs).
            models.Index(fields=["workspace", "-id"], name="activity_event_ws_idx"),
            # ?apiKey=key_…: what one key changed, newest first.
            models.Index(fields=["api_key", "-id"], name="activity_event_key_idx"),
            # ?actor=usr_…: what one person (or a workspace's system user) did, newest first.
            models.Index(fields=["actor", "-id"], name="activity_event_actor_idx"),
            # Retention deletes by age in bounded batches.
            models.Index(fields=["created_at"], name="activity_event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"
