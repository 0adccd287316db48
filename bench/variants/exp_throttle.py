"""A fixed-window counter throttle for API keys (bench variant; see README "Performance")."""

import time

from django.core.cache import cache

from apikeys.throttles import ApiKeyRateThrottle


class ApiKeyCounterThrottle(ApiKeyRateThrottle):
    """Fixed-window counter: one INCR per request instead of get + set of a timestamp list."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window = int(time.time() // self.duration)
        bucket = f"{key}:{window}"
        try:
            count = cache.incr(bucket)
        except ValueError:
            cache.add(bucket, 0, self.duration + 1)
            count = cache.incr(bucket)
        self._wait = self.duration - (time.time() % self.duration)
        if count > self.num_requests:
            return self.throttle_failure()
        return True

    def wait(self):
        return self._wait
