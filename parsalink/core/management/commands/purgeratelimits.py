"""`manage.py purgeratelimits`: delete rate-limit counters whose window has ended."""

from django.core.management.base import BaseCommand

from parsalink.core.ratelimit import purge_expired


class Command(BaseCommand):
    help = "Delete ended rate-limit windows from core_ratecounter (no-op on Redis; run daily)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--pause", type=float, default=0.0, help="seconds between batches")

    def handle(self, *args, batch_size: int, pause: float, **options) -> None:
        deleted = purge_expired(batch_size=max(1, batch_size), pause=pause)
        self.stdout.write(f"deleted {deleted} ended rate-limit counters")
