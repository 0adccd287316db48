"""Tables of the shared helpers."""

from django.db import models


class RateCounter(models.Model):
    """One rate-limit window of one key (parsalink/core/ratelimit.py, used without Redis).

    A table of its own, never a cache: no entry limit, so no flood of other keys can cull a
    live counter. Rows whose window has ended are dead weight until `purgeratelimits`.
    """

    key = models.CharField(max_length=200, primary_key=True)
    count = models.BigIntegerField()
    # Epoch milliseconds: the same integer comparison on PostgreSQL and SQLite.
    window_ends_ms = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return self.key
