"""`manage.py purgetokens`: delete expired refresh-token records and sessions in bounded
batches."""

from accounts.services.housekeeping import refresh_tokens_purge_expired
from accounts.services.user_sessions import sessions_purge_expired
from parsalink.core.commands import PurgeCommand


class Command(PurgeCommand):
    help = "Delete expired sessions and their refresh-token records (schedule it daily)."

    def purge(self, *, batch_size: int, pause: float, **options) -> None:
        deleted = refresh_tokens_purge_expired(batch_size=batch_size, pause=pause)
        self.stdout.write(f"deleted {deleted} expired refresh-token records")
        sessions = sessions_purge_expired(batch_size=batch_size, pause=pause)
        self.stdout.write(f"deleted {sessions} expired sessions")
