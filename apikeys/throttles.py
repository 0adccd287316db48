"""Per-API-key request rate: a leaked or runaway key cannot take the whole API down."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from activity.actor import client_ip
from activity.services import security_event
from apikeys.authentication import ApiKeyInfo


class ApiKeyRateThrottle(SimpleRateThrottle):
    """THROTTLE_API_KEY per key; requests not made with a key (JWT) skip it at no cost."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.THROTTLE_API_KEY

    def get_cache_key(self, request, view) -> str | None:
        auth = request.auth
        if not isinstance(auth, ApiKeyInfo):
            return None
        self._key_id, self._ip = auth.id, client_ip(request)
        return self.cache_format % {"scope": self.scope, "ident": auth.id}

    def throttle_failure(self) -> bool:
        security_event("api_key.throttled", apiKeyId=self._key_id, ip=self._ip)
        return False
