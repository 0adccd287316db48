"""The peer's contact: the same columns as ParsaLink's, a plain string workspace id."""

from django.db import models


class Contact(models.Model):
    id = models.CharField(primary_key=True, max_length=32)
    workspace_id = models.CharField(max_length=32)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    company = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workspace_id", "-id"], name="peer_contact_ws_idx")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.id})"
