import pytest
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

from parsalink.core.cache import RedisCache

pytestmark = pytest.mark.django_db  # the autouse cache reset uses the database cache

REDIS = "redis://127.0.0.1:6379/12"


def test_it_reuses_one_client_and_still_works_as_a_cache():
    cache = RedisCache(REDIS, {"KEY_PREFIX": "parsalink-cache-test"})
    client = cache._cache.get_client()
    assert client is cache._cache.get_client(write=True)
    assert isinstance(cache._cache, DjangoRedisCacheClient)

    cache.delete("counter")
    assert cache.add("counter", 0, timeout=5)
    assert not cache.add("counter", 0, timeout=5)
    assert cache.incr("counter") == 1
    assert cache.incr("counter") == 2
    cache.set("value", {"a": 1}, timeout=5)
    assert cache.get("value") == {"a": 1}
    cache.delete_many(["counter", "value"])
    assert cache.get("counter") is None
