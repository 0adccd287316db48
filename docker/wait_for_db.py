"""Wait (bounded) until DATABASE_URL accepts connections; exit 1 with one line if it never does.

Run by docker/entrypoint.sh before migrations. DB_WAIT_TIMEOUT seconds, default 60.
"""

import os
import sys
import time

import dj_database_url
import psycopg


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return 0  # SQLite (quick start): nothing to wait for
    config = dj_database_url.parse(url)
    params = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "dbname": config["NAME"],
        "connect_timeout": 3,
    }
    timeout = float(os.environ.get("DB_WAIT_TIMEOUT", "60"))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(**params) as conn:
                conn.execute("SELECT 1")
            return 0
        except psycopg.Error as exc:
            if time.monotonic() >= deadline:
                reason = (
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                )
                print(f"database not reachable after {timeout:g} s: {reason}", file=sys.stderr)
                return 1
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
