"""The /api/contacts/ endpoints (filled in by the contacts issue)."""

from rest_framework import viewsets


class ContactViewSet(viewsets.GenericViewSet):
    pass
