import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from tests.clients import key_client_for
from tests.factories import key_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.urls")]

PROBE = "/probe/whoami/"


def _window_start(seconds: int = 60):
    """A moment at the start of a rate window, so a test never straddles two windows."""
    now = timezone.now()
    return now - timedelta(seconds=now.timestamp() % seconds) + timedelta(seconds=60)


@override_settings(THROTTLE_API_KEY="2/min")
def test_each_key_has_its_own_rate(key_client, api_key, user, caplog):
    with time_machine.travel(_window_start(), tick=False):
        assert [key_client.get(PROBE).status_code for _ in range(2)] == [200, 200]
        response = key_client.get(PROBE)
        assert response.status_code == 429
        assert response.json()["code"] == "throttled"
        # Frozen at the window's first second: the whole minute is left.
        assert response["Retry-After"] == "60"
        assert key_client_for(key_for(user, name="other").plain).get(PROBE).status_code == 200
    throttled = [r for r in caplog.records if getattr(r, "event", None) == "throttled"]
    assert [(r.name, r.scope, r.apiKeyId) for r in throttled] == [
        ("parsalink.security", "api_key", api_key.api_key.id)
    ]
    assert all(api_key.plain not in r.getMessage() + str(r.__dict__) for r in caplog.records)


@override_settings(THROTTLE_API_KEY="2/min")
def test_retry_after_counts_down_to_the_end_of_the_window(key_client):
    start = _window_start()
    with time_machine.travel(start, tick=False) as clock:
        assert [key_client.get(PROBE).status_code for _ in range(2)] == [200, 200]
        clock.move_to(start + timedelta(seconds=45))
        response = key_client.get(PROBE)
        assert response.status_code == 429
        assert response["Retry-After"] == "15"
        # The next window starts afresh.
        clock.move_to(start + timedelta(seconds=60))
        assert [key_client.get(PROBE).status_code for _ in range(3)] == [200, 200, 429]


@override_settings(THROTTLE_API_KEY="1/min")
def test_jwt_requests_are_not_counted(jwt_client):
    assert [jwt_client.get(PROBE).status_code for _ in range(3)] == [200, 200, 200]


@override_settings(THROTTLE_API_KEY="1/min")
def test_jwt_requests_do_not_touch_the_cache(jwt_client, django_assert_num_queries):
    """Without Redis the counters are a table: a JWT request must not query it."""
    jwt_client.get(PROBE)  # warm-up
    with django_assert_num_queries(1) as queries:  # the lean principal lookup only
        assert jwt_client.get(PROBE).status_code == 200
    assert not any("core_ratecounter" in q["sql"] for q in queries.captured_queries)


def _redis_caches(prefix: str) -> dict:
    """The production cache backend on a Redis database of its own, keys under a unique prefix."""
    return {
        "default": {
            "BACKEND": "parsalink.core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/14",
            "KEY_PREFIX": prefix,
        }
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_counted_exactly_on_redis(user):
    """Threads racing from a window's first request: INCR counts each one, the counter is
    created once (never reset by a second creator), so exactly the rate passes."""
    plain = key_for(user).plain
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def burst() -> None:
        client = key_client_for(plain)
        barrier.wait()
        for _ in range(3):
            statuses.append(client.get(PROBE).status_code)
        connection.close()

    prefix = f"throttle-test-{uuid.uuid4().hex}"
    with (
        override_settings(THROTTLE_API_KEY="5/min", CACHES=_redis_caches(prefix)),
        time_machine.travel(_window_start(), tick=False),
    ):
        threads = [threading.Thread(target=burst) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] * 5 + [429] * 7
