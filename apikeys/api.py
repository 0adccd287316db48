"""The /api/api-keys/ endpoints (filled in by the API-key issue)."""

from rest_framework import viewsets

from accounts.permissions import IsPerson


class ApiKeyViewSet(viewsets.GenericViewSet):
    permission_classes = [IsPerson]
