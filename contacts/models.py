"""Contacts: the people a workspace keeps track of."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from parsalink.core.ids import ID_MAX_LENGTH, PrefixedId


class Contact(models.Model):
    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("ct"), editable=False
    )
    # Indexed by the composite indexes below, which all start with it (no separate FK index).
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Every list is `WHERE workspace_id = %s ORDER BY <key>, id LIMIT pageSize + 1`, and the
        # next page adds `AND (<key>, id) > (<last row's key>, <last row's id>)`: each index below
        # lets PostgreSQL start right at the cursor, so page N costs what page 1 costs.
        # ?search= has a PostgreSQL-only trigram index that is not declared here (SQLite cannot
        # build it): contacts/migrations/0003_contact_search_trigram_index.py.
        indexes = [
            # GET /api/contacts/ (default: newest first; ULID ids sort by creation time).
            models.Index(fields=["workspace", "-id"], name="contacts_contact_ws_idx"),
            # ?ordering=lastName / -lastName (scanned backwards for the descending order).
            models.Index(
                fields=["workspace", "last_name", "id"], name="contacts_contact_ws_lname_idx"
            ),
            # ?ordering=createdAt / -createdAt.
            models.Index(
                fields=["workspace", "created_at", "id"], name="contacts_contact_ws_ctime_idx"
            ),
            # ?ordering=updatedAt / -updatedAt ("recently edited").
            models.Index(
                fields=["workspace", "updated_at", "id"], name="contacts_contact_ws_mtime_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_name=""), name="contacts_contact_first_name_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() + f" ({self.id})"
