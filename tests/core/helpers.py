"""The production Redis cache for one test: a database of its own, keys under a unique prefix."""

import uuid

REDIS_LOCATION = "redis://127.0.0.1:6379/14"


def redis_caches() -> dict:
    return {
        "default": {
            "BACKEND": "parsalink.core.cache.RedisCache",
            "LOCATION": REDIS_LOCATION,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
