"""Clean-up of expired refresh-token records (`manage.py purgetokens`)."""

import time

from accounts.models import RefreshTokenRecord
from parsalink.core.purge import delete_in_batches


def refresh_tokens_purge_expired(*, batch_size: int = 5000, pause: float = 0.0) -> int:
    """Delete expired refresh-token records in bounded batches (short locks); returns the count."""
    return delete_in_batches(
        RefreshTokenRecord.objects.filter(expires_at__lt=int(time.time())),
        order_by="expires_at",
        batch_size=batch_size,
        pause=pause,
    )
