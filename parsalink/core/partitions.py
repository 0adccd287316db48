"""Monthly RANGE partitions of a PostgreSQL table on a timestamp column: made ahead of time, and a
retention that drops whole months instead of deleting their rows one by one.

Partitions are `<table>_pYYYYMM` for [the month's first instant, the next month's) in UTC, plus
`<table>_default`, which takes any row no monthly partition covers, so an insert never fails.
Knows nothing about the apps: callers pass table and column names (docs/operations.md).
"""

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

MONTHS_AHEAD = 3
# DROP TABLE and ATTACH PARTITION need a brief exclusive lock on the parent: wait for it at most
# this long rather than queue every insert behind a long-running reader.
LOCK_TIMEOUT = "5s"

# Bounds as timestamps, read back from the catalog; MINVALUE/MAXVALUE come out as NULL.
_PARTITIONS_SQL = r"""
SELECT c.relname,
       b.expr = 'DEFAULT',
       (regexp_match(b.expr, 'FROM \(''([^'']*)''\)'))[1]::timestamptz,
       (regexp_match(b.expr, 'TO \(''([^'']*)''\)'))[1]::timestamptz
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid,
LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
WHERE i.inhparent = to_regclass(%s)
ORDER BY 4 NULLS LAST
"""


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    is_default: bool
    lower: datetime | None  # None: MINVALUE
    upper: datetime | None  # None: MAXVALUE


def month_start(moment: datetime, *, plus: int = 0) -> datetime:
    """The first instant (UTC) of `moment`'s month, `plus` months later."""
    moment = moment.astimezone(UTC)
    index = moment.year * 12 + moment.month - 1 + plus
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table]
        )
        return cursor.fetchone() is not None


def partitions(table: str) -> list[Partition]:
    """The table's partitions, oldest first (the default last)."""
    with connection.cursor() as cursor:
        cursor.execute(_PARTITIONS_SQL, [table])
        return [Partition(*row) for row in cursor.fetchall()]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@contextmanager
def maintenance_lock(table: str) -> Iterator[None]:
    """One partition maintainer per table at a time: a second daily job started while the first
    still runs waits for it (a session advisory lock, released even if the job dies), then finds
    the partitions made and the old months gone."""
    key = zlib.crc32(f"partitions:{table}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def ensure_monthly_partitions(
    table: str, column: str, *, now: datetime, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Create the default partition and those of `now`'s month and the next `months_ahead`
    months that no partition covers yet; returns the names created.

    Rows that already landed in the default partition for such a month move into the new
    partition in the same transaction (PostgreSQL refuses a partition whose rows sit in the
    default), so a missed run of the daily job costs nothing but that move.
    """
    default = f"{table}_default"
    created = []
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_q(default)} PARTITION OF {_q(table)} DEFAULT")
    existing = [p for p in partitions(table) if not p.is_default]
    for offset in range(months_ahead + 1):
        lower, upper = month_start(now, plus=offset), month_start(now, plus=offset + 1)
        # Start after any partition reaching into this month (e.g. an attached legacy table).
        for p in existing:
            if (p.lower is None or p.lower < upper) and (p.upper is None or p.upper > lower):
                lower = max(lower, p.upper) if p.upper is not None else upper
        if lower >= upper:
            continue
        name = f"{table}_p{month_start(upper, plus=-1):%Y%m}"
        _create_partition(table, default, column, name, lower, upper)
        existing.append(Partition(name, False, lower, upper))
        created.append(name)
    return created


def _create_partition(
    table: str, default: str, column: str, name: str, lower: datetime, upper: datetime
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout TO '{LOCK_TIMEOUT}'")
        cursor.execute(
            f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_q(default)} "  # noqa: S608 (names only)
            f"WHERE {_q(column)} >= %s AND {_q(column)} < %s RETURNING *) "
            f"INSERT INTO {_q(name)} SELECT * FROM moved",
            [lower, upper],
        )
        # Indexes, the primary key and foreign keys are cloned from the parent on attach.
        # Bounds as literals: DDL takes no parameters (they are our own datetimes).
        cursor.execute(
            f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} "
            f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
        )


def purge_partitioned(
    table: str, column: str, *, cutoff: datetime, batch_size: int, pause: float = 0.0
) -> tuple[int, list[str]]:
    """Remove the rows older than `cutoff`: partitions that end at or before it are dropped
    whole; the partition straddling it and the default one lose their old rows in batches.

    Returns the number of rows removed and the names of the partitions dropped.
    """
    removed, dropped = 0, []
    for p in partitions(table):
        if not p.is_default and p.upper is not None and p.upper <= cutoff:
            removed += _drop(p.name)
            dropped.append(p.name)
        elif p.is_default or p.lower is None or p.lower < cutoff:
            deleted = _delete_in_batches(p.name, column, cutoff, batch_size, pause)
            if deleted:
                # Fresh statistics at once (autovacuum comes later): with the deleted rows still
                # counted, the planner may walk their dead index entries for a key's activity page.
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE {_q(p.name)}")
            removed += deleted
    return removed, dropped


def _drop(name: str) -> int:
    # Counted before the drop, outside its lock: nothing writes rows older than the cutoff, and
    # the parent's exclusive lock (which DROP takes before the partition's, in the order readers
    # take them) is then held only for the catalog change, not for a scan.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_q(name)}")  # noqa: S608 (name only)
        rows = cursor.fetchone()[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout TO '{LOCK_TIMEOUT}'")
        cursor.execute(f"DROP TABLE {_q(name)}")
    return rows


def _delete_in_batches(name: str, column: str, cutoff: datetime, batch: int, pause: float) -> int:
    """Oldest first, `batch` rows per statement (autocommit: short transactions), addressed by
    ctid so each batch reads one partition's index on `column` and nothing else."""
    sql = (
        f"DELETE FROM {_q(name)} WHERE ctid = ANY(ARRAY("  # noqa: S608 (names only)
        f"SELECT ctid FROM {_q(name)} WHERE {_q(column)} < %s ORDER BY {_q(column)} LIMIT %s))"
    )
    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [cutoff, batch])
            deleted = cursor.rowcount
        total += deleted
        if deleted < batch:
            return total
        if pause:
            time.sleep(pause)
