"""`manage.py purgeratelimits`: delete rate-limit counters whose window has ended."""

from parsalink.core.commands import PurgeCommand
from parsalink.core.ratelimit import purge_expired


class Command(PurgeCommand):
    help = "Delete ended rate-limit windows from core_ratecounter (no-op on Redis; run daily)."

    def purge(self, *, batch_size: int, pause: float, **options) -> None:
        deleted = purge_expired(batch_size=batch_size, pause=pause)
        self.stdout.write(f"deleted {deleted} ended rate-limit counters")
