"""Give every live refresh-token family (from before sessions existed) its session.

A live family keeps working: its next rotation continues the session made here. Ended or
expired families get none (their tokens can never be rotated anyway).
"""

import datetime as dt
import time

from django.db import migrations
from ulid import ULID


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def sessions_for_live_families(apps, schema_editor):
    Record = apps.get_model("accounts", "RefreshTokenRecord")
    Session = apps.get_model("accounts", "Session")
    now = int(time.time())
    live = Record.objects.filter(
        session__isnull=True, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    for newest in live.iterator():
        family = Record.objects.filter(family_id=newest.family_id)
        first_issued = min(family.values_list("issued_at", flat=True))
        session = Session.objects.create(
            id=f"ses_{ULID.from_timestamp(first_issued * 1000)}",
            user_id=newest.user_id,
            kind="api",
            created_at=_at(first_issued),
            last_used_at=_at(newest.issued_at),
            expires_at=_at(newest.expires_at),
        )
        family.update(session=session)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_sessions")]

    operations = [
        migrations.RunPython(sessions_for_live_families, migrations.RunPython.noop, elidable=True)
    ]
