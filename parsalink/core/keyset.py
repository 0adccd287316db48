"""Keyset pages for the HTML lists: `?before=<id>` walks an `(x, -id)` index, no COUNT or OFFSET."""

from dataclasses import dataclass

from django.db.models import QuerySet

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class KeysetPage:
    rows: list
    # The `before` value of the next (older) page, or None on the last page.
    older: object | None
    is_first: bool


def keyset_page(queryset: QuerySet, *, before: str | None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page, newest first, of rows with an id below `before` (all rows when it is None)."""
    if before:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.order_by("-pk")[: size + 1])
    older = rows[size - 1].pk if len(rows) > size else None
    return KeysetPage(rows=rows[:size], older=older, is_first=not before)
