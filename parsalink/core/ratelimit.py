"""The one counter store behind every rate limit: atomic, one round trip, never evictable.

`hit(key, limit=, period=)` counts one attempt and says whether it is within the limit. Each key
has a window that opens at its first hit and lasts `period` seconds; the first hit after it ends
opens the next one. Every hit counts, refused ones included, so the `limit`-th attempt inside a
window passes and the next is refused wherever the wall clock stands within a minute.

- Redis (the default cache is parsalink.core.cache.RedisCache): a Lua script, INCR and, on the
  window's first hit, PEXPIRE, run atomically in one round trip through the cache's reused client.
  A counter can never be left without an expiry, and Redis never evicts keys with a TTL under
  the default `noeviction` policy (operators must not set `allkeys-*`, docs/operations.md).
- Otherwise: a row per key in `core_ratecounter`, counted by one
  `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING` (PostgreSQL and SQLite). The row lock
  serialises concurrent hits of one key across every worker; the table has no size limit, so a
  flood of other keys cannot push a live counter out. On PostgreSQL, outside a transaction, the
  hit commits without waiting for the WAL flush (measured ~350 µs instead of ~3 ms per hit on a
  busy disk). Ended windows are deleted in bounded batches by `manage.py purgeratelimits`
  (schedule it with the other daily purges).

Keys are the callers' business: short, and without personal data (hash an e-mail address).
"""

import math
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.db import connection

from parsalink.core.cache import RedisCache
from parsalink.core.models import RateCounter
from parsalink.core.purge import delete_in_batches

_TABLE = RateCounter._meta.db_table

# Old values on the right of SET on both databases: each CASE sees the window before this hit.
_UPSERT = f"""
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN {_TABLE}.window_ends_ms <= %s THEN 1 ELSE {_TABLE}.count + 1 END,
    window_ends_ms = CASE WHEN {_TABLE}.window_ends_ms <= %s
                          THEN excluded.window_ends_ms ELSE {_TABLE}.window_ends_ms END
RETURNING count, window_ends_ms
"""
_COLUMNS = f"INSERT INTO {_TABLE} (key, count, window_ends_ms)"
_HIT_SQL = f"{_COLUMNS} VALUES (%s, 1, %s) {_UPSERT}"
# PostgreSQL in autocommit: the statement is its own transaction, committed without waiting for
# the WAL flush (~3 ms on a busy disk, as for the API-key usage rows). A crash can forget the
# hits of its last ~600 ms; nothing else is affected (SET LOCAL ends with this transaction).
# A CTE for statements that carry a hit: `WITH {PG_SYNC_OFF}, …` and count FROM sync_off.
PG_SYNC_OFF = "sync_off AS (SELECT set_config('synchronous_commit', 'off', true))"

_UNDO_SQL = f"""
UPDATE {_TABLE} SET count = count - 1 WHERE key = %s AND count > 0 AND window_ends_ms > %s
"""  # noqa: S608

# KEYS[1] the counter, ARGV[1] the window in ms. The PTTL guard also heals a counter that lost
# its expiry some other way (a PERSIST by hand): it gets a fresh window instead of living forever.
_HIT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    return {count, tonumber(ARGV[1])}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""

_UNDO_LUA = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    # Whole seconds until the window ends (at least 1): the 429's Retry-After.
    retry_after: int
    # This hit's number within the window.
    count: int


def _now_ms() -> int:
    return int(time.time() * 1000)


def _retry_after(remaining_ms: int) -> int:
    return max(1, math.ceil(remaining_ms / 1000))


class _Scripts:
    """The Lua scripts registered on one redis.Redis client (EVALSHA, EVAL after a flush)."""

    def __init__(self, client) -> None:
        self.client = client
        self.hit = client.register_script(_HIT_LUA)
        self.undo = client.register_script(_UNDO_LUA)


_scripts: dict[int, _Scripts] = {}


def _redis():
    """(scripts, cache) when the default cache is Redis, else None: the table is used."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return None
    client = cache._cache.get_client(write=True)
    scripts = _scripts.get(id(client))
    if scripts is None or scripts.client is not client:
        scripts = _scripts[id(client)] = _Scripts(client)
    return scripts, cache


def counts_in_table() -> bool:
    """True when the counters live in `core_ratecounter` (no Redis cache configured)."""
    return _redis() is None


@dataclass(frozen=True, slots=True)
class TableHit:
    """One hit of the table counter as SQL another statement can carry (a CTE body), so the
    count costs no round trip of its own; `decide()` reads the RETURNING row it yields."""

    sql: str
    params: list
    now_ms: int
    limit: int

    def decide(self, count: int, window_ends_ms: int) -> Decision:
        return _decision(count, window_ends_ms - self.now_ms, self.limit)


def table_hit(key: str, *, limit: int, period: int | float, source: str) -> TableHit:
    """The table's counting statement for `key`, counting once per row of `source` (a FROM
    list: one row counts, none counts nothing). It returns (count, window_ends_ms)."""
    now_ms = _now_ms()
    sql = f"{_COLUMNS} SELECT %s, 1, %s FROM {source} {_UPSERT}"  # noqa: S608 (no values)
    params = [key, now_ms + _period_ms(period), now_ms, now_ms]
    return TableHit(sql=sql, params=params, now_ms=now_ms, limit=limit)


def _period_ms(period: int | float) -> int:
    return max(1, int(period * 1000))


def _decision(count: int, remaining_ms: int, limit: int) -> Decision:
    return Decision(allowed=count <= limit, retry_after=_retry_after(remaining_ms), count=count)


def hit(key: str, *, limit: int, period: int | float) -> Decision:
    """Count one attempt against `key`: allowed while the window's count is at most `limit`."""
    redis = _redis()
    if redis is not None:
        scripts, cache = redis
        count, remaining_ms = scripts.hit(keys=[cache.make_key(key)], args=[_period_ms(period)])
        return _decision(int(count), int(remaining_ms), limit)
    # Inside a caller's transaction the flag would outlive this statement: plain SQL there.
    carried = table_hit(key, limit=limit, period=period, source="sync_off")
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        sql = f"WITH {PG_SYNC_OFF} {carried.sql}"
    else:
        sql = _HIT_SQL  # the same parameters; SQLite wants VALUES before ON CONFLICT
    with connection.cursor() as cursor:
        cursor.execute(sql, carried.params)
        return carried.decide(*cursor.fetchone())


def undo(key: str) -> None:
    """Take back one hit of the current window (an attempt that turned out not to count)."""
    redis = _redis()
    if redis is not None:
        scripts, cache = redis
        scripts.undo(keys=[cache.make_key(key)])
        return
    with connection.cursor() as cursor:
        cursor.execute(_UNDO_SQL, [key, _now_ms()])


def purge_expired(*, batch_size: int = 5000, pause: float = 0.0) -> int:
    """Delete counters of ended windows in bounded batches (short locks); returns the count.

    Only the table needs it: Redis expires its counters itself.
    """
    return delete_in_batches(
        RateCounter.objects.filter(window_ends_ms__lte=_now_ms()),
        order_by="window_ends_ms",
        batch_size=batch_size,
        pause=pause,
    )
