"""The usage log becomes a table partitioned by month on created_at (PostgreSQL; SQLite keeps the
plain table), so retention drops whole months (parsalink/core/partitions.py).

The existing table is copied (INSERT … SELECT under an exclusive lock): right for new and small
installs. A table too large to copy during a deploy makes this migration stop with a message;
docs/operations.md describes converting it by hand without rewriting it (the old table attached as
one partition), after which this migration finds the table partitioned and does nothing.

The model is unchanged: Django keeps `id` as the primary key, while the database's primary key is
(id, created_at), since a partitioned table's must include the partition key; ids stay unique
because they all come from one sequence. The identity column becomes a plain bigint whose default
is that sequence (PostgreSQL 15 allows no identity column on a partitioned table).
"""

from datetime import UTC, datetime

from django.db import migrations

TABLE = "apikeys_apikeyusage"
OLD = "apikeys_apikeyusage_unpartitioned"
SEQUENCE = "apikeys_apikeyusage_id_seq"
MONTHS_AHEAD = 3
# Above this size (about 2 million rows) the copy would hold the usage log's lock for minutes:
# stop and let the operator convert by hand (docs/operations.md).
COPY_MAX_BYTES = 256 * 1024 * 1024

_CREATE = f"""
CREATE TABLE {TABLE} (
    id bigint NOT NULL DEFAULT nextval('{SEQUENCE}'),
    created_at timestamp with time zone NOT NULL,
    method varchar(10) NOT NULL,
    path varchar(300) NOT NULL,
    status smallint NOT NULL CONSTRAINT apikeys_apikeyusage_status_check CHECK (status >= 0),
    ip inet NULL,
    user_agent varchar(300) NOT NULL,
    api_key_id varchar(32) NOT NULL,
    CONSTRAINT apikeys_apikeyusage_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at)
"""
_COLUMNS = "id, created_at, method, path, status, ip, user_agent, api_key_id"


def _month(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        if cursor.fetchone():
            return  # converted by hand (docs/operations.md)
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [TABLE])
        if cursor.fetchone()[0] > COPY_MAX_BYTES:
            raise RuntimeError(
                f"{TABLE} is too large to copy during a migration: partition it by hand first "
                "(docs/operations.md, 'Partitioning an existing usage table')"
            )
        run("SET LOCAL statement_timeout TO 0")
        # Writers wait for the copy instead of inserting rows it would miss.
        run(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            f"SELECT min(created_at), coalesce(max(id), 0) FROM {TABLE}"  # noqa: S608
        )
        oldest, last_id = cursor.fetchone()
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        fk_name = cursor.fetchone()[0]
    run(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    run(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
    # The old identity column owns a sequence of this name; it goes with the old table.
    run(f"ALTER SEQUENCE {SEQUENCE} RENAME TO {OLD}_id_seq")
    run(f"CREATE SEQUENCE {SEQUENCE} START WITH {last_id + 1}")
    run(_CREATE)
    run(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    run(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    now = datetime.now(UTC)
    first = oldest or now
    start = first.year * 12 + first.month - 1
    end = now.year * 12 + now.month - 1 + MONTHS_AHEAD
    for index in range(start, end + 1):
        lower, upper = _month(index).isoformat(), _month(index + 1).isoformat()
        run(
            f"CREATE TABLE {TABLE}_p{_month(index):%Y%m} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{lower}') TO ('{upper}')"
        )
    run(f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {OLD}")  # noqa: S608
    run(f"DROP TABLE {OLD}")
    # What Django created on the old table, now on the parent (each partition gets its own).
    run(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {fk_name} FOREIGN KEY (api_key_id) "
        "REFERENCES apikeys_apikey (id) DEFERRABLE INITIALLY DEFERRED"
    )
    run(f"CREATE INDEX apikeys_usage_key_idx ON {TABLE} (api_key_id, id DESC)")
    run(f"CREATE INDEX apikeys_usage_created_idx ON {TABLE} (created_at)")


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0004_api_key_revoked_reason"),
    ]

    # Backwards: nothing to undo for the code, which reads and writes a partitioned table as it
    # did the plain one; un-partitioning a large log is a job for an operator, not a rollback.
    operations = [
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
    ]
