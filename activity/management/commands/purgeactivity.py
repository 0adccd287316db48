"""`manage.py purgeactivity [--older-than-days N] [--batch-size 5000]`: the retention job.

Deletes activity events and API-key usage rows older than N days (default:
settings.ACTIVITY_RETENTION_DAYS, 365 unless the environment says otherwise) in bounded batches
(parsalink/core/purge.py), so the tables are never locked for long.
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone

from parsalink.core.commands import PurgeCommand, positive_int
from parsalink.core.purge import delete_in_batches


class Command(PurgeCommand):
    help = (
        "Delete activity events and API-key usage rows older than N days, in bounded batches "
        "(schedule it daily)."
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
        cutoff = timezone.now() - timedelta(days=days)
        for label, model in (
            ("activity events", apps.get_model("activity", "ActivityEvent")),
            # String reference: activity sits below apikeys and does not import it.
            ("API-key usage rows", apps.get_model("apikeys", "ApiKeyUsage")),
        ):
            deleted = delete_in_batches(
                model.objects.filter(created_at__lt=cutoff),
                order_by="created_at",
                batch_size=batch_size,
                pause=pause,
            )
            self.stdout.write(f"deleted {deleted} {label} older than {cutoff.isoformat()}")
