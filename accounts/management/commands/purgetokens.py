"""`manage.py purgetokens`: delete expired refresh-token records and sessions in bounded
batches."""

from django.core.management.base import BaseCommand

from accounts.services import refresh_tokens_purge_expired
from accounts.user_sessions import sessions_purge_expired


class Command(BaseCommand):
    help = "Delete expired sessions and their refresh-token records (schedule it daily)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--pause", type=float, default=0.0, help="seconds between batches")

    def handle(self, *args, batch_size: int, pause: float, **options) -> None:
        deleted = refresh_tokens_purge_expired(batch_size=max(1, batch_size), pause=pause)
        self.stdout.write(f"deleted {deleted} expired refresh-token records")
        sessions = sessions_purge_expired(batch_size=max(1, batch_size), pause=pause)
        self.stdout.write(f"deleted {sessions} expired sessions")
