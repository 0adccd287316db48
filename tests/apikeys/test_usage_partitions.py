"""The usage log on PostgreSQL: partitioned by month, partitions made ahead by the daily job, and
a retention that drops whole old months (apikeys/migrations/0005, parsalink/core/partitions.py)."""

import threading
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from apikeys.models import ApiKeyUsage
from apikeys.services import usage_record
from parsalink.core import partitions
from tests.factories import key_for

pytestmark = pytest.mark.django_db

TABLE = ApiKeyUsage._meta.db_table


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def names() -> set[str]:
    return {p.name for p in partitions.partitions(TABLE)}


def where(row_id: int) -> str:
    """The partition holding usage row `row_id`."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [row_id])
        return cursor.fetchone()[0]


def log(api_key, when: datetime) -> ApiKeyUsage:
    return ApiKeyUsage.objects.create(
        api_key=api_key, created_at=when, method="GET", path="/api/contacts/", status=200
    )


def purge(now: datetime, *args: str) -> str:
    out = StringIO()
    # The rows above were inserted in this test's transaction, so their deferred foreign-key
    # checks are still pending, and PostgreSQL drops no table with pending checks; in production
    # every row has committed long before the job runs.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with time_machine.travel(now, tick=False):
        call_command("purgeactivity", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def api_key(user):
    return key_for(user).api_key


def test_the_usage_table_is_partitioned_by_month_with_a_default():
    assert partitions.is_partitioned(TABLE)
    month = partitions.month_start(datetime.now(UTC))
    expected = {f"{TABLE}_p{partitions.month_start(month, plus=n):%Y%m}" for n in range(4)}
    assert expected | {f"{TABLE}_default"} <= names()


def test_the_key_activity_and_retention_indexes_are_on_the_partitioned_table():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"apikeys_usage_key_idx", "apikeys_usage_created_idx"} <= indexes


def test_retention_drops_whole_months_older_than_the_cutoff(api_key):
    partitions.ensure_monthly_partitions(TABLE, "created_at", now=at(2026, 4, 1), months_ahead=2)
    old = [log(api_key, at(2026, 4, day)) for day in (2, 20)] + [log(api_key, at(2026, 5, 9))]
    newer = [log(api_key, at(2026, 6, 20)), log(api_key, at(2026, 7, 14))]
    output = purge(at(2026, 7, 15), "--older-than-days", "30")  # cutoff: 2026-06-15 12:00
    assert f"{TABLE}_p202604" not in names()
    assert f"{TABLE}_p202605" not in names()
    assert "deleted 3 API-key usage rows" in output
    assert "2 monthly partitions dropped whole" in output
    assert not ApiKeyUsage.objects.filter(pk__in=[row.pk for row in old]).exists()
    assert set(ApiKeyUsage.objects.values_list("pk", flat=True)) == {row.pk for row in newer}


def test_retention_deletes_the_old_rows_of_the_month_straddling_the_cutoff(api_key):
    partitions.ensure_monthly_partitions(TABLE, "created_at", now=at(2026, 6, 1), months_ahead=0)
    expired = [log(api_key, at(2026, 6, day)) for day in (1, 5, 10, 14)]
    kept = [log(api_key, at(2026, 6, day)) for day in (16, 25)]
    output = purge(at(2026, 7, 15), "--older-than-days", "30", "--batch-size", "3")
    assert "deleted 4 API-key usage rows" in output
    assert f"{TABLE}_p202606" in names()
    assert not ApiKeyUsage.objects.filter(pk__in=[row.pk for row in expired]).exists()
    assert {where(row.pk) for row in kept} == {f"{TABLE}_p202606"}


def test_retention_empties_the_default_partition_of_old_rows(api_key):
    stray_old = log(api_key, at(2020, 1, 1))
    stray_new = log(api_key, at(2040, 1, 1))
    assert where(stray_old.pk) == where(stray_new.pk) == f"{TABLE}_default"
    assert "deleted 1 API-key usage rows" in purge(at(2026, 7, 15), "--older-than-days", "30")
    assert list(ApiKeyUsage.objects.values_list("pk", flat=True)) == [stray_new.pk]


def test_the_daily_job_creates_the_coming_months_partitions():
    output = purge(at(2031, 11, 10))
    assert {f"{TABLE}_p{month}" for month in ("203111", "203112", "203201", "203202")} <= names()
    assert "created 4 API-key usage partitions" in output
    assert "created 0 API-key usage partitions" in purge(at(2031, 11, 11))


def test_a_usage_row_for_a_month_without_a_partition_lands_in_the_default(api_key):
    with time_machine.travel(at(2033, 3, 10), tick=False):
        usage_record(
            api_key_id=api_key.pk,
            method="GET",
            path="/api/contacts/",
            status=200,
            ip="203.0.113.7",
            user_agent="zapier/1.0",
            touch_last_used=True,
        )
    row = ApiKeyUsage.objects.get(api_key=api_key)
    assert where(row.pk) == f"{TABLE}_default"
    # The next daily run gives that month its partition and moves the row into it.
    purge(at(2033, 3, 10))
    assert where(row.pk) == f"{TABLE}_p203303"
    assert ApiKeyUsage.objects.get(pk=row.pk).path == "/api/contacts/"


def test_a_partition_starts_where_an_older_one_reaching_into_its_month_ends():
    """An attached legacy table may end mid-month (docs/operations.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE}_legacy PARTITION OF {TABLE} "
            "FOR VALUES FROM ('2035-01-01T00:00:00+00:00') TO ('2035-05-17T00:00:00+00:00')"
        )
    created = partitions.ensure_monthly_partitions(
        TABLE, "created_at", now=at(2035, 5, 20), months_ahead=1
    )
    assert created == [f"{TABLE}_p203505", f"{TABLE}_p203506"]
    bounds = {p.name: (p.lower, p.upper) for p in partitions.partitions(TABLE)}
    assert bounds[f"{TABLE}_p203505"] == (at(2035, 5, 17, 0), at(2035, 6, 1, 0))
    assert bounds[f"{TABLE}_legacy"] == (at(2035, 1, 1, 0), at(2035, 5, 17, 0))


def test_a_keys_activity_reads_newest_first_across_partitions(api_key, jwt_client):
    partitions.ensure_monthly_partitions(TABLE, "created_at", now=at(2026, 4, 1), months_ahead=0)
    rows = [log(api_key, when) for when in (at(2026, 4, 2), at(2040, 1, 1), at(2026, 4, 3))]
    rows.append(log(api_key, datetime.now(UTC)))
    assert len({where(row.pk) for row in rows}) == 3
    response = jwt_client.get(f"/api/api-keys/{api_key.pk}/activity/?pageSize=2")
    first = response.json()
    second = jwt_client.get(first["next"]).json()
    # Newest first means by id (the order the rows were written), whichever month they sit in.
    expected = [row.created_at for row in sorted(rows, key=lambda row: -row.pk)]
    got = [r["createdAt"] for r in first["results"] + second["results"]]
    assert [datetime.fromisoformat(value.replace("Z", "+00:00")) for value in got] == expected


@pytest.mark.django_db(transaction=True)
def test_a_second_daily_job_waits_for_the_first():
    """Two runs at once take turns on the partitions (an advisory lock), instead of both creating
    or dropping the same one."""
    held, release = threading.Event(), threading.Event()

    def first_job() -> None:
        with partitions.maintenance_lock(TABLE):
            held.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=first_job)
    thread.start()
    assert held.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    out = StringIO()
    call_command("purgeactivity", stdout=out)
    assert time.monotonic() - started >= 0.45
    assert "deleted 0 API-key usage rows" in out.getvalue()
    thread.join()
