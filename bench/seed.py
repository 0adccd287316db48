"""Bench data for ParsaLink, made with the project's own services (run by bench/runner.py).

    python bench/seed.py base  --out FILE            # workspace, user, API key, 10 contacts, tokens
    python bench/seed.py mint  --n N --out FILE      # N fresh refresh tokens of 32 users
    python bench/seed.py scale --out FILE            # 1k / 1M contacts, 10M key-usage rows (cached)

DATABASE_URL names the database; every command prints nothing but errors and writes FILE.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import login as accounts_login  # noqa: E402
from accounts.services import users as accounts_services  # noqa: E402
from activity.actor import Actor  # noqa: E402
from apikeys import services as apikeys_services  # noqa: E402
from contacts import services as contacts_services  # noqa: E402
from parsalink.core import partitions  # noqa: E402

PASSWORD = "bench-password-Quietly-Sturdy-42"
LIST_ROWS = 10
# Refresh tokens come from this many users' sessions, interleaved, as real traffic does: every
# rotation takes a key-share lock on its user row, so one user's refreshes would all queue on a
# single row (a contention real traffic does not have) and measure that instead of a rotation.
REFRESH_USERS = 32
SCALE_SMALL, SCALE_LARGE, USAGE_ROWS = 1_000, 1_000_000, 10_000_000
# Bump when the scale data's shape changes: a cached parsalink_bench_scale is then re-seeded.
SCALE_VERSION = 2


def _person(name: str, email: str) -> User:
    workspace = accounts_services.workspace_create(name=name)
    return accounts_services.user_create(
        email=email, password=PASSWORD, first_name="Bench", last_name=name, workspace=workspace
    )


def _access_token(user: User) -> str:
    """A fresh access token without hashing a password (the login service's session starter)."""
    with transaction.atomic():
        return accounts_login.start_session(user, ip=None, user_agent="bench")[1].access


def base(out: Path) -> None:
    reader = _person("Bench", "bench@parsalink.example")
    writer = _person("Bench writes", "bench-writes@parsalink.example")
    actor = Actor(workspace_id=reader.workspace_id, user_id=reader.pk, ip="127.0.0.1")
    for i in range(LIST_ROWS):
        contacts_services.contact_create(
            actor=actor,
            data={
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "email": f"contact{i}@example.com",
                "phone": "+1 555 0100",
                "company": "Example Inc",
                "notes": "",
            },
        )
    created = apikeys_services.api_key_create(actor=actor, name="bench")
    for i in range(REFRESH_USERS):
        accounts_services.user_create(
            email=f"bench-session-{i}@parsalink.example",
            password=PASSWORD,
            first_name="Session",
            last_name=str(i),
            workspace=reader.workspace,
        )
    # One real login through the service (one Argon2 hash) proves the password path works.
    login = accounts_login.login(
        email=reader.email, password=PASSWORD, ip="127.0.0.1", user_agent="bench-seed"
    )
    info = {
        "workspace": reader.workspace_id,
        "email": reader.email,
        "password": PASSWORD,
        "access": login.pair.access,
        "writerAccess": _access_token(writer),
        "apiKey": created.plain,
        "apiKeyId": created.api_key.pk,
    }
    out.write_text(json.dumps(info))


def mint(n: int, out: Path) -> None:
    """N refresh tokens of N separate sessions, round-robin over the REFRESH_USERS users (so
    consecutive requests rotate different users' tokens); one INSERT each."""
    users = list(User.objects.filter(email__startswith="bench-session-").order_by("email"))
    assert len(users) == REFRESH_USERS, "run `seed.py base` first"
    with transaction.atomic():
        lines = [
            accounts_login.start_session(users[i % len(users)], ip=None, user_agent="bench")[
                1
            ].refresh
            for i in range(n)
        ]
    out.write_text("\n".join(lines) + "\n")


# --- scale ------------------------------------------------------------------------------------

# ULID-like ids in SQL: 10 Crockford base32 characters of a millisecond timestamp (so ids sort by
# time, like the app's), then 16 of an md5 (hex digits are valid Crockford characters).
_ULID_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.bench_ulid(ms bigint, seed bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                           ((ms >> (5 * (9 - k))) & 31)::int + 1, 1), '' ORDER BY k)
         || upper(substr(md5(seed::text), 1, 16))
  FROM generate_series(0, 9) AS k
$$;
"""

_CONTACTS_SQL = """
INSERT INTO contacts_contact
    (id, workspace_id, first_name, last_name, email, phone, company, notes,
     created_at, updated_at, created_by_id)
SELECT 'ct_' || pg_temp.bench_ulid(%(base_ms)s + i, i + %(seed)s),
       %(workspace)s, 'First' || i, 'Last' || i, 'contact' || i || '@example.com',
       '+1 555 0100', 'Example Inc', '',
       to_timestamp((%(base_ms)s + i) / 1000.0), to_timestamp((%(base_ms)s + i) / 1000.0),
       NULL
FROM generate_series(1, %(n)s) AS i
"""

# Every other row belongs to the key whose activity is measured; the rest to a second key, so
# the index has to skip the other key's rows, as it would in a busy workspace.
_USAGE_SQL = """
INSERT INTO apikeys_apikeyusage (api_key_id, created_at, method, path, status, ip, user_agent)
SELECT CASE WHEN i %% 2 = 0 THEN %(key)s ELSE %(other)s END,
       now() - make_interval(secs => (%(n)s - i) / 100.0),
       'GET', '/api/contacts/', 200, '127.0.0.1'::inet, 'bench-seed'
FROM generate_series(1, %(n)s) AS i
"""

_MARKER_SQL = "CREATE TABLE IF NOT EXISTS bench_scale_marker (version int, info jsonb)"


def _cached_scale_info() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(_MARKER_SQL)
        cursor.execute("SELECT version, info FROM bench_scale_marker")
        row = cursor.fetchone()
    if row is None or row[0] != SCALE_VERSION:
        return None
    info = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    if not User.objects.filter(email=info["email"]).exists():
        return None
    return info


def _timed(label: str, sql: str, params: dict) -> None:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    print(f"  {label}: {time.monotonic() - started:.0f} s", file=sys.stderr)


def scale(out: Path) -> None:
    info = _cached_scale_info()
    if info is None:
        if User.objects.exists():
            # A partial or outdated seed: bench/runner.py recreates the database and calls again.
            sys.exit(3)
        print("seeding parsalink_bench_scale (once; cached afterwards)", file=sys.stderr)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_scale_marker")
            cursor.execute("SET statement_timeout TO 0")
            cursor.execute("SET synchronous_commit TO off")
            cursor.execute("SET maintenance_work_mem TO '256MB'")
            cursor.execute(_ULID_SQL)
        small = _person("Scale 1k", "scale-1k@parsalink.example")
        large = _person("Scale 1M", "scale-1m@parsalink.example")
        base_ms = int(time.time() * 1000) - 2 * SCALE_LARGE
        _timed(
            "1k contacts",
            _CONTACTS_SQL,
            {"workspace": small.workspace_id, "n": SCALE_SMALL, "base_ms": base_ms, "seed": 0},
        )
        _timed(
            "1M contacts",
            _CONTACTS_SQL,
            {"workspace": large.workspace_id, "n": SCALE_LARGE, "base_ms": base_ms, "seed": 10**7},
        )
        actor = Actor(workspace_id=small.workspace_id, user_id=small.pk)
        key = apikeys_services.api_key_create(actor=actor, name="measured").api_key
        other = apikeys_services.api_key_create(actor=actor, name="busy neighbour").api_key
        # The rows reach ~28 hours back: give their months partitions (the default would take
        # them, but a monthly partition is where they live in production).
        if partitions.is_partitioned("apikeys_apikeyusage"):
            partitions.ensure_monthly_partitions(
                "apikeys_apikeyusage", "created_at", now=timezone.now() - timedelta(days=2)
            )
        _timed("10M usage rows", _USAGE_SQL, {"key": key.pk, "other": other.pk, "n": USAGE_ROWS})
        with connection.cursor() as cursor:
            # VACUUM too: it merges the trigram index's pending list, as autovacuum does in time.
            cursor.execute("VACUUM ANALYZE")
        info = {
            "email1k": small.email,
            "email": large.email,
            "workspace1k": small.workspace_id,
            "workspace1m": large.workspace_id,
            "apiKeyId": key.pk,
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_scale_marker VALUES (%s, %s)", [SCALE_VERSION, json.dumps(info)]
            )
    with connection.cursor() as cursor:
        for table in ("contacts_contact", "apikeys_apikeyusage"):
            cursor.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")
            info[f"rows_{table}"] = cursor.fetchone()[0]
    info["access1k"] = _access_token(User.objects.get(email=info["email1k"]))
    info["access1m"] = _access_token(User.objects.get(email=info["email"]))
    out.write_text(json.dumps(info))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["base", "mint", "scale"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    if args.command == "base":
        base(args.out)
    elif args.command == "mint":
        mint(args.n, args.out)
    else:
        scale(args.out)


if __name__ == "__main__":
    main()
