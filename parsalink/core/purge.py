"""Deleting many old rows without long locks: one bounded batch per statement."""

import time

from django.db.models import QuerySet


def delete_in_batches(
    queryset: QuerySet, *, order_by: str, batch_size: int, pause: float = 0.0
) -> int:
    """Delete the rows of `queryset`, oldest first by `order_by`, `batch_size` per statement.

    Each batch is `DELETE … WHERE pk IN (SELECT pk … ORDER BY order_by LIMIT n)`, served by the
    index on `order_by`, in autocommit: a short transaction holding row locks on at most n rows,
    so the job can run beside traffic and be stopped at any point. Returns the number deleted.
    """
    model = queryset.model
    total = 0
    while True:
        batch = queryset.order_by(order_by).values("pk")[:batch_size]
        deleted, _ = model._base_manager.filter(pk__in=batch).delete()
        total += deleted
        if deleted < batch_size:
            return total
        if pause:
            time.sleep(pause)
