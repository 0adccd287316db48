"""Per-API-key request rate: a leaked or runaway key cannot take the whole API down.

A fixed-window counter, not DRF's sliding log. `SimpleRateThrottle` reads the key's whole
timestamp history, trims it and writes it back on every request: up to 6000 pickled floats at the
default `THROTTLE_API_KEY=6000/min`, and two concurrent requests can both read the old list and
both pass. Here each key has one integer per window, `api_key:<key id>:<window index>`, and a
request costs one `cache.incr` (plus one `cache.add` the first time in a window).

- Redis: INCR is atomic, so concurrent requests from every worker and machine are counted
  exactly. Django's `incr` checks that the key exists first; a missing key (first request of the
  window, or evicted) is created with `add` (SET NX, so concurrent creators cannot reset it).
- Database cache (no REDIS_URL, development and tests): `incr` is a get then a set, so two
  simultaneous requests can count once. The limit can be overshot by the concurrency, never
  undershot; that is accepted for a setup without Redis.

A fixed window lets a key send up to twice its rate across a window boundary (the end of one
window and the start of the next); the limit is a guard against runaway keys, not a quota.
Each window's counter expires one second after the window ends.
"""

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
        """Unused by allow_request (the window is part of the key); kept for DRF's interface."""
        auth = request.auth
        if not isinstance(auth, ApiKeyInfo):
            return None
        return f"{self.scope}:{auth.id}"

    def allow_request(self, request, view) -> bool:
        auth = request.auth
        if self.rate is None or not isinstance(auth, ApiKeyInfo):
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now
        count = self._count(f"{self.scope}:{auth.id}:{window}")
        if count is None or count <= self.num_requests:
            return True
        # The key id names the key for the operator; the key itself is never logged.
        security_event("throttled", scope=self.scope, apiKeyId=auth.id, ip=client_ip(request))
        return False

    def _count(self, key: str) -> int | None:
        """This request's number in the window; None if the cache lost the counter twice."""
        for _ in range(2):
            try:
                return self.cache.incr(key)
            except ValueError:  # not there yet this window (or evicted): create it at 0
                self.cache.add(key, 0, timeout=self.duration + 1)
        return None

    def wait(self) -> float:
        """Seconds until the current window ends: the 429's Retry-After."""
        return self._wait
