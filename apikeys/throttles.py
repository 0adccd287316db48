"""Per-API-key request rate (filled in by the API-key issue)."""

from rest_framework.throttling import BaseThrottle


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        return True
