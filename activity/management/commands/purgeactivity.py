"""`manage.py purgeactivity [--older-than-days N] [--batch-size 5000]`: the retention job.

Deletes activity events and API-key usage rows older than N days (default: the environment's
ACTIVITY_RETENTION_DAYS, else 365) in batches of `--batch-size` rows, each its own short
transaction, so the tables are never locked for long and the job can be stopped at any point.
"""

import os
import sys
import time
from datetime import timedelta

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

DEFAULT_RETENTION_DAYS = 365
MAX_BATCH_SIZE = 100_000


def _positive_int(raw: object, name: str, *, maximum: int | None = None) -> int:
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        limit = f" up to {maximum}" if maximum is not None else ""
        raise CommandError(f"{name} must be a positive integer{limit}, got {raw!r}")
    return int(text)


class Command(BaseCommand):
    help = (
        "Delete activity events and API-key usage rows older than N days, in bounded batches "
        "(schedule it daily)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        argparse_error = parser.error

        def one_line_error(message: str):
            # argparse prints the usage too; operators' commands print exactly one line.
            if parser.called_from_command_line:
                self.stderr.write(f"CommandError: {message}")
                sys.exit(2)
            argparse_error(message)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-days",
            help=f"age in days (default: $ACTIVITY_RETENTION_DAYS or {DEFAULT_RETENTION_DAYS})",
        )
        parser.add_argument("--batch-size", default="5000", help="rows per delete statement")
        parser.add_argument("--pause", default="0", help="seconds to sleep between batches")

    def handle(self, *args, **options) -> None:
        if options["older_than_days"] is not None:
            days = _positive_int(options["older_than_days"], "--older-than-days")
        else:
            days = _positive_int(
                os.environ.get("ACTIVITY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
                "ACTIVITY_RETENTION_DAYS",
            )
        batch_size = _positive_int(options["batch_size"], "--batch-size", maximum=MAX_BATCH_SIZE)
        try:
            pause = float(options["pause"])
        except ValueError:
            raise CommandError(
                f"--pause must be a number of seconds, got {options['pause']!r}"
            ) from None
        if not 0 <= pause <= 60:
            raise CommandError("--pause must be between 0 and 60 seconds")
        cutoff = timezone.now() - timedelta(days=days)
        for label, model in (
            ("activity events", apps.get_model("activity", "ActivityEvent")),
            # String reference: activity sits below apikeys and does not import it.
            ("API-key usage rows", apps.get_model("apikeys", "ApiKeyUsage")),
        ):
            deleted = _purge(model, cutoff=cutoff, batch_size=batch_size, pause=pause)
            self.stdout.write(f"deleted {deleted} {label} older than {cutoff.isoformat()}")


def _purge(model, *, cutoff, batch_size: int, pause: float) -> int:
    """Delete rows with created_at < cutoff, oldest first, batch_size rows per statement.

    Each batch is `DELETE … WHERE id IN (SELECT id … WHERE created_at < cutoff ORDER BY
    created_at LIMIT n)`, served by the model's created_at index, in autocommit: a short
    transaction that holds row locks on at most n rows.
    """
    total = 0
    while True:
        batch = model.objects.filter(created_at__lt=cutoff).order_by("created_at").values("pk")
        deleted, _ = model.objects.filter(pk__in=batch[:batch_size]).delete()
        total += deleted
        if deleted < batch_size:
            return total
        if pause:
            time.sleep(pause)
