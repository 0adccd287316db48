"""The counter store behind every budget, on both of its backends (Redis and the table)."""

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from parsalink.core import ratelimit
from parsalink.core.models import RateCounter
from tests.core.helpers import redis_caches
from tests.live_server import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["redis", "table"])
def backend(request, settings) -> str:
    if request.param == "redis":
        settings.CACHES = redis_caches()
    return request.param


def _key() -> str:
    return f"test_{uuid.uuid4().hex}"


def test_the_limit_th_hit_passes_and_the_next_is_refused(backend):
    key = _key()
    decisions = [ratelimit.hit(key, limit=10, period=60) for _ in range(12)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False] * 2
    assert [d.count for d in decisions] == list(range(1, 13))
    assert all(1 <= d.retry_after <= 60 for d in decisions)


def test_keys_count_separately(backend):
    first, second = _key(), _key()
    ratelimit.hit(first, limit=1, period=60)
    assert not ratelimit.hit(first, limit=1, period=60).allowed
    assert ratelimit.hit(second, limit=1, period=60).allowed


def test_the_window_opens_at_the_first_hit_wherever_the_clock_stands():
    """Ten attempts at 0:59 and one at 1:00 are still one window: the 11th is refused."""
    key = _key()
    start = timezone.now().replace(second=59, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        assert all(ratelimit.hit(key, limit=10, period=60).allowed for _ in range(10))
        clock.move_to(start + timedelta(seconds=1))
        refused = ratelimit.hit(key, limit=10, period=60)
        assert not refused.allowed
        assert refused.retry_after == 59
        clock.move_to(start + timedelta(seconds=59, milliseconds=500))
        assert ratelimit.hit(key, limit=10, period=60).retry_after == 1  # ceil, never 0
        clock.move_to(start + timedelta(seconds=60))
        renewed = ratelimit.hit(key, limit=10, period=60)
        assert (renewed.allowed, renewed.count, renewed.retry_after) == (True, 1, 60)


def test_a_redis_window_ends_after_its_period(settings):
    settings.CACHES = redis_caches()
    key = _key()
    assert ratelimit.hit(key, limit=1, period=1).allowed
    assert not ratelimit.hit(key, limit=1, period=1).allowed
    time.sleep(1.1)
    assert ratelimit.hit(key, limit=1, period=1).count == 1


def test_a_redis_counter_always_carries_an_expiry(settings):
    from django.core.cache import cache

    settings.CACHES = redis_caches()
    key = _key()
    for _ in range(3):
        ratelimit.hit(key, limit=5, period=60)
    client = cache._cache.get_client(write=True)
    assert 0 < client.pttl(cache.make_key(key)) <= 60_000


def test_undo_takes_back_one_hit_and_never_goes_below_zero(backend):
    key = _key()
    ratelimit.hit(key, limit=2, period=60)
    ratelimit.hit(key, limit=2, period=60)
    ratelimit.undo(key)
    assert ratelimit.hit(key, limit=2, period=60).count == 2
    for _ in range(5):
        ratelimit.undo(key)
    assert ratelimit.hit(key, limit=2, period=60).count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_counted_exactly(backend):
    """Real threads, each with its own connection: exactly `limit` of them pass."""
    key, allowed = _key(), []
    barrier = threading.Barrier(8)

    def burst() -> None:
        barrier.wait()
        for _ in range(5):
            allowed.append(ratelimit.hit(key, limit=13, period=60).allowed)
        connection.close()

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == [False] * 27 + [True] * 13


def test_purge_deletes_ended_windows_only_in_bounded_batches(capsys):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for i in range(7):
            ratelimit.hit(f"ended_{i}", limit=1, period=60)
        clock.move_to(start + timedelta(seconds=61))
        ratelimit.hit("live", limit=1, period=60)
        call_command("purgeratelimits", "--batch-size", "3")
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["live"]
    assert "deleted 7 ended rate-limit counters" in capsys.readouterr().out


def test_the_table_works_on_sqlite(tmp_path):
    """`make run` has no DATABASE_URL: the same upsert on SQLite's ON CONFLICT … RETURNING."""
    env = {**os.environ, "DJANGO_DEBUG": "1", "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    script = (
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', 'core', verbosity=0);"
        "from parsalink.core import ratelimit;"
        "print([ratelimit.hit('k', limit=2, period=60).allowed for _ in range(3)])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "parsalink.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[True, True, False]"
