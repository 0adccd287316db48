"""The retention measurement: seed 10M expired API-key usage rows into the scale database, then
time the real daily job (`manage.py purgeactivity`, default age) that removes them.

    python bench/retention.py --out FILE      # DATABASE_URL names the scale database

The rows belong to a scratch key of their own and fill the six whole months before the month of
the cutoff (now - ACTIVITY_RETENTION_DAYS), plus one day's share just before the cutoff, in the
month that straddles it: what a job run daily finds (the month's older days went the day
before). bench/runner.py runs it after the scale latencies, since it adds and removes partitions.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from activity.actor import Actor  # noqa: E402
from apikeys import services as apikeys_services  # noqa: E402
from apikeys.models import ApiKey, ApiKeyUsage  # noqa: E402
from parsalink.core import partitions  # noqa: E402

EXPIRED_ROWS = 10_000_000
WHOLE_MONTHS = 6
SCRATCH_KEY = "retention scratch"
TABLE = ApiKeyUsage._meta.db_table

_SPREAD_SQL = f"""
INSERT INTO {TABLE} (api_key_id, created_at, method, path, status, ip, user_agent)
SELECT %(key)s, %(start)s::timestamptz + (%(end)s::timestamptz - %(start)s::timestamptz)
                * (i::float8 / %(n)s),
       'GET', '/api/contacts/', 200, '127.0.0.1'::inet, 'bench-retention'
FROM generate_series(0, %(n)s - 1) AS i
"""


def _scratch_key() -> ApiKey:
    found = ApiKey.objects.filter(name=SCRATCH_KEY).first()
    if found:
        return found
    user = User.objects.get(email="scale-1k@parsalink.example")
    actor = Actor(workspace_id=user.workspace_id, user_id=user.pk)
    return apikeys_services.api_key_create(actor=actor, name=SCRATCH_KEY).api_key


def _seed(key: ApiKey, now) -> dict:
    cutoff = now - timedelta(days=int(settings.ACTIVITY_RETENTION_DAYS))
    first = partitions.month_start(cutoff, plus=-WHOLE_MONTHS)
    straddled = partitions.month_start(cutoff)
    # The expired months get their partitions first, as the daily job made them when they were
    # ahead; otherwise the rows would land in the default partition.
    partitions.ensure_monthly_partitions(TABLE, "created_at", now=first, months_ahead=WHOLE_MONTHS)
    days = (straddled - first).days
    one_day = EXPIRED_ROWS // (days + 1)
    spreads = [
        (first, straddled, EXPIRED_ROWS - one_day),
        (cutoff - timedelta(days=1), cutoff - timedelta(seconds=1), one_day),
    ]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout TO 0")
        cursor.execute("SET synchronous_commit TO off")
        for start, end, n in spreads:
            cursor.execute(_SPREAD_SQL, {"key": key.pk, "start": start, "end": end, "n": n})
        cursor.execute(f"ANALYZE {TABLE}")
    print(
        f"  seeded {EXPIRED_ROWS} expired usage rows: {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return {"cutoff": cutoff.isoformat(), "rows": EXPIRED_ROWS, "straddling_rows": one_day}


def measure(out: Path) -> None:
    key = _scratch_key()
    now = timezone.now()
    info = _seed(key, now)
    output = StringIO()
    started = time.monotonic()
    call_command("purgeactivity", stdout=output)
    info["seconds"] = time.monotonic() - started
    info["output"] = output.getvalue().strip().splitlines()
    info["left"] = ApiKeyUsage.objects.filter(api_key=key).count()
    out.write_text(json.dumps(info))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    measure(parser.parse_args().out)


if __name__ == "__main__":
    main()
