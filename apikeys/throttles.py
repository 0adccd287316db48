"""Per-API-key request rate: a leaked or runaway key cannot take the whole API down.

One counter per key in the shared store (parsalink/core/ratelimit.py): a window opens at the
key's first request and lasts the rate's period, so a key never sends more than its rate within
one window, on any number of workers. The key's authentication counts the request (with table
counters inside its lookup statement, at no round trip of its own) once the key is accepted;
this throttle only reads that count. JWT requests skip it without touching the store.
"""

from activity.services import security_event
from apikeys.authentication import ApiKeyInfo
from apikeys.services import rate_counter_key
from parsalink.core.client import client_ip
from parsalink.core.throttling import StoreRateThrottle


class ApiKeyRateThrottle(StoreRateThrottle):
    """THROTTLE_API_KEY per key."""

    scope = "api_key"
    rate_setting = "THROTTLE_API_KEY"

    def get_cache_key(self, request, view) -> str | None:
        auth = request.auth
        if not isinstance(auth, ApiKeyInfo):
            return None
        return rate_counter_key(auth.id)

    def allow_request(self, request, view) -> bool:
        auth = request.auth
        if not isinstance(auth, ApiKeyInfo) or auth.rate is None:
            return True
        self.retry_after = auth.rate.retry_after
        if auth.rate.allowed:
            return True
        # The key id names the key for the operator; the key itself is never logged.
        security_event("throttled", scope=self.scope, apiKeyId=auth.id, ip=client_ip(request))
        return self.throttle_failure()
