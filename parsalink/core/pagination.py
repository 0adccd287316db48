"""The contract's list envelope: cursor pagination, 50 items by default, `?pageSize=1..200`."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination: page N costs what page 1 costs, however large the table grows."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "pageSize"
    cursor_query_param = "cursor"
    invalid_cursor_message = "The cursor is not valid."
    # ULIDs sort by creation time, so "-id" is newest first and unique: a stable cursor.
    ordering = "-id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # isascii: str.isdigit() is true for "²" and other digits int() refuses (a 500).
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {"pageSize": [f"Must be an integer from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception as exc:  # DRF raises NotFound; a bad cursor is a client error
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from exc
