"""DRF throttles that count in the shared store (parsalink/core/ratelimit.py).

DRF's SimpleRateThrottle keeps a timestamp list per key in the cache and reads, trims and writes
it back without a lock: concurrent requests on several workers all pass. Subclasses here keep
DRF's shape (scope, rate string, get_cache_key) but count with one atomic `ratelimit.hit`, and
identify clients by `client_ip()`: X-Forwarded-For only from a FORWARDED_ALLOW_IPS peer.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from parsalink.core import ratelimit
from parsalink.core.client import client_ip


class StoreRateThrottle(SimpleRateThrottle):
    """A fixed window per key, opened by its first request; Retry-After is its remaining time.

    `rate_setting` names the Django setting holding the DRF rate string ("10/min").
    """

    rate_setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting, None)

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        decision = ratelimit.hit(self.key, limit=self.num_requests, period=self.duration)
        self.retry_after = decision.retry_after
        if decision.allowed:
            return True
        return self.throttle_failure()

    def wait(self) -> int:
        return self.retry_after


def charge(key: str, *, rate_setting: str) -> ratelimit.Decision:
    """One attempt against `key` at the rate in `settings.<rate_setting>`, for budgets charged
    outside DRF's throttle hook (admin login, password change, failed API-key secrets)."""
    limit, period = SimpleRateThrottle.parse_rate(None, getattr(settings, rate_setting))
    return ratelimit.hit(key, limit=limit, period=period)
