"""The /api/activity/ endpoint (filled in by the contacts/activity issue)."""

from rest_framework import viewsets


class ActivityViewSet(viewsets.GenericViewSet):
    pass
