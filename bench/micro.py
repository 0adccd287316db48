"""Where an authenticated request's time goes: each step of the hot paths, timed in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parsalink_bench python bench/micro.py

Needs the data `make bench` seeds (bench/results/seed.json). Prints µs of CPU and of wall time
per call; wall minus CPU is mostly waiting for PostgreSQL or Redis.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")

import django  # noqa: E402

django.setup()

import jwt  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import tokens  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.selectors import principal_for_token  # noqa: E402
from apikeys import crypto  # noqa: E402
from apikeys.selectors import api_key_auth_row  # noqa: E402
from apikeys.services import api_key_lookup_logged, usage_record  # noqa: E402


def timed(label: str, fn, n: int = 2000) -> None:
    for _ in range(min(n, 50)):
        fn()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{label:<58} {cpu / n * 1e6:8.1f} µs CPU {wall / n * 1e6:8.1f} µs wall")


def main() -> None:
    seed = json.loads((ROOT / "bench/results/seed.json").read_text())
    access, key = seed["access"], seed["apiKey"]
    claims = tokens.decode(access, tokens.ACCESS)
    parsed = crypto.parse(key)
    row = api_key_auth_row(key_id=parsed.key_id, now=timezone.now())

    print(f"database: {connection.settings_dict['NAME']}, cache: {settings.CACHES['default']}")
    timed("SELECT 1 (one round trip, Django cursor)", lambda: _select1())
    timed(
        "JWT: tokens.decode (PyJWT; signature kept per token)",
        lambda: tokens.decode(access, "access"),
    )
    timed(
        "JWT: bare PyJWT decode (HS256, issuer)",
        lambda: jwt.decode(
            access, settings.JWT_SIGNING_KEY, algorithms=["HS256"], issuer=settings.JWT_ISSUER
        ),
    )
    timed(
        "JWT: principal_for_token (raw SQL, one round trip)",
        lambda: principal_for_token(
            user_id=claims.user_id, session_id=claims.session_id, issued_ms=claims.issued_ms
        ),
    )
    timed(
        "JWT: same user through the ORM (stock simplejwt)",
        lambda: User.objects.get(pk=claims.user_id),
    )
    timed("key: crypto.parse (format + checksum)", lambda: crypto.parse(key))
    timed(
        "key: secret_matches (HMAC-SHA-256)",
        lambda: crypto.secret_matches(parsed.secret, row.secret_hash),
    )
    timed(
        "key: api_key_auth_row (one round trip)",
        lambda: api_key_auth_row(key_id=parsed.key_id, now=timezone.now()),
    )
    timed(
        "key: api_key_lookup_logged (lookup + usage row + counter)",
        lambda: api_key_lookup_logged(
            key_id=parsed.key_id,
            method="GET",
            path="/api/contacts/",
            ip="127.0.0.1",
            user_agent="micro",
            rate=(1_000_000, 1),
        ),
    )
    timed(
        "key: usage_record (INSERT, synchronous_commit off)",
        lambda: usage_record(
            api_key_id=parsed.key_id,
            method="GET",
            path="/api/contacts/",
            status=200,
            ip="127.0.0.1",
            user_agent="micro",
            touch_last_used=False,
        ),
    )
    cache.add("micro:window", 0, 60)
    timed("throttle: cache.incr of the window's counter", lambda: cache.incr("micro:window"))
    cache.delete("micro:window")


def _select1() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


if __name__ == "__main__":
    main()
