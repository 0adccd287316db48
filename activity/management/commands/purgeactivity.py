"""`manage.py purgeactivity [--older-than-days N] [--batch-size 5000]`: the retention job.

Deletes activity events and API-key usage rows older than N days (default:
settings.ACTIVITY_RETENTION_DAYS, 365 unless the environment says otherwise) in bounded batches
(parsalink/core/purge.py), so the tables are never locked for long. On PostgreSQL the usage log is
partitioned by month (parsalink/core/partitions.py): the job first creates the coming months'
partitions, then drops the months wholly older than N days and deletes in batches only from the
month straddling the cutoff and from the default partition.
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from parsalink.core import partitions
from parsalink.core.commands import PurgeCommand, positive_int
from parsalink.core.purge import delete_in_batches


class Command(PurgeCommand):
    help = (
        "Delete activity events and API-key usage rows older than N days, in bounded batches or "
        "whole monthly partitions, and create the coming months' partitions (schedule it daily)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-days",
            help="age in days (default: $ACTIVITY_RETENTION_DAYS, else 365)",
        )
        super().add_arguments(parser)

    def purge(self, *, batch_size: int, pause: float, older_than_days=None, **options) -> None:
        if older_than_days is not None:
            days = positive_int(older_than_days, "--older-than-days")
        else:
            days = positive_int(settings.ACTIVITY_RETENTION_DAYS, "ACTIVITY_RETENTION_DAYS")
        now = timezone.now()
        cutoff = now - timedelta(days=days)
        events = apps.get_model("activity", "ActivityEvent")
        deleted = delete_in_batches(
            events.objects.filter(created_at__lt=cutoff),
            order_by="created_at",
            batch_size=batch_size,
            pause=pause,
        )
        self.stdout.write(f"deleted {deleted} activity events older than {cutoff.isoformat()}")
        # String reference: activity sits below apikeys and does not import it.
        usage = apps.get_model("apikeys", "ApiKeyUsage")
        table = usage._meta.db_table
        if not partitions.is_partitioned(table):
            deleted = delete_in_batches(
                usage.objects.filter(created_at__lt=cutoff),
                order_by="created_at",
                batch_size=batch_size,
                pause=pause,
            )
            self.stdout.write(
                f"deleted {deleted} API-key usage rows older than {cutoff.isoformat()}"
            )
            return
        with partitions.maintenance_lock(table):
            created = partitions.ensure_monthly_partitions(table, "created_at", now=now)
            deleted, dropped = partitions.purge_partitioned(
                table, "created_at", cutoff=cutoff, batch_size=batch_size, pause=pause
            )
        self.stdout.write(
            f"deleted {deleted} API-key usage rows older than {cutoff.isoformat()} "
            f"({len(dropped)} monthly partitions dropped whole)"
        )
        ahead = partitions.month_start(now, plus=partitions.MONTHS_AHEAD)
        self.stdout.write(
            f"created {len(created)} API-key usage partitions; months up to {ahead:%Y-%m} have one"
        )
