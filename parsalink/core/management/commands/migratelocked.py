"""`manage.py migratelocked`: `migrate` under a PostgreSQL advisory lock (replicas start at once).

Every replica's entrypoint runs it. The first to take the lock migrates; the others wait for the
lock, then find nothing left to apply. A session-level advisory lock is released by PostgreSQL
when the connection ends, so a replica that dies while migrating cannot leave it held.
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

# Any constant shared by all replicas of this project: "parsalink" as a 63-bit integer.
MIGRATION_LOCK_ID = int.from_bytes(b"parsalnk", "big") >> 1


class Command(BaseCommand):
    help = "Apply migrations while holding a PostgreSQL advisory lock (safe with many replicas)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lock-timeout",
            type=int,
            default=600,
            help="Seconds to wait for another replica's migration before giving up.",
        )

    def handle(self, *args, lock_timeout: int, verbosity: int, **options):
        if connection.vendor != "postgresql":
            call_command("migrate", interactive=False, verbosity=verbosity)
            return
        with connection.cursor() as cursor:
            # A migration may legitimately run longer than the serving statement_timeout.
            cursor.execute("SET statement_timeout = 0")
            deadline = time.monotonic() + lock_timeout
            waiting_said = False
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_ID])
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"another replica held the migration lock for over {lock_timeout} s"
                    )
                if not waiting_said:
                    self.stdout.write("Waiting for another replica to finish migrating...")
                    waiting_said = True
                time.sleep(0.5)
            try:
                call_command("migrate", interactive=False, verbosity=verbosity)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
