"""Keyset ("seek") cursors over `(key, id)`, so every ordering pages in constant time."""

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import CharField, F, Func, Value
from django.db.models.lookups import GreaterThan, LessThan
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param

from parsalink.core.pagination import CursorPagination


class Row(Func):
    """SQL row constructor: `ROW(a, b) > ROW(x, y)` is one B-tree range condition in PostgreSQL."""

    function = "ROW"
    output_field = CharField()  # never selected; only compared


class KeysetCursorPagination(CursorPagination):
    """Cursor pagination whose cursor holds the last row's whole sort key, `(key, id)`.

    DRF's cursor keeps only the first ordering column plus an offset among equal values, so a
    non-unique key (many "Smith"s) costs an OFFSET scan and can skip or repeat rows while others
    insert. Here the cursor is the full, unique key of the row at the page edge, and the next page
    is `WHERE (key, id) > (cursor) ORDER BY key, id LIMIT n + 1`: an index range scan that starts at
    the cursor, whatever the page number, and unaffected by rows inserted elsewhere.

    The view provides `get_keyset(request)`: model field names, each optionally prefixed with "-",
    all in the same direction and ending with the unique "id" (e.g. `("last_name", "id")`).
    """

    def paginate_queryset(self, queryset, request, view=None):
        def fetch(keys, after, limit):
            return self.queryset_rows(queryset, keys, after, limit)

        return self.paginate_rows(fetch, request, view, model=queryset.model)

    def paginate_rows(self, fetch, request, view, *, model):
        """The page from `fetch(keys, after, limit)`: up to `limit` rows of `model` in `keys`
        order after the cursor row's values `after` (None: from the start)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.keyset = tuple(view.get_keyset(request)) if view is not None else ("-id",)
        self.model = model
        cursor = self.decode_cursor(request)
        reverse = cursor is not None and cursor[1]
        keys = _flip(self.keyset) if reverse else self.keyset
        rows = fetch(keys, cursor[0] if cursor is not None else None, self.page_size + 1)
        has_more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, cursor is not None
        return self.page

    def queryset_rows(self, queryset, keys: tuple[str, ...], after: list | None, limit: int):
        queryset = queryset.order_by(*keys)
        if after is not None:
            queryset = queryset.filter(self._after(keys, after))
        return list(queryset[:limit])

    def _after(self, keys: tuple[str, ...], values: list) -> GreaterThan | LessThan:
        names = [key.lstrip("-") for key in keys]
        columns = Row(*(F(name) for name in names))
        position = Row(
            *(
                Value(value, output_field=self.model._meta.get_field(name))
                for name, value in zip(names, values, strict=True)
            )
        )
        lookup = LessThan if keys[0].startswith("-") else GreaterThan
        return lookup(columns, position)

    def _position(self, instance) -> list:
        return [
            self.model._meta.get_field(key.lstrip("-")).value_to_string(instance)
            for key in self.keyset
        ]

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return self._link(self._position(self.page[-1]), reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(self._position(self.page[0]), reverse=True)

    def _link(self, values: list, *, reverse: bool) -> str:
        payload = {"k": ",".join(self.keyset), "v": values, "r": int(reverse)}
        raw = json.dumps(payload, separators=(",", ":")).encode()
        encoded = urlsafe_b64encode(raw).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def decode_cursor(self, request) -> tuple[list, bool] | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            payload = json.loads(urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            if not isinstance(payload, dict) or payload.get("k") != ",".join(self.keyset):
                raise ValueError("cursor of another ordering")
            raw_values, reverse = payload["v"], payload["r"]
            if not isinstance(raw_values, list) or len(raw_values) != len(self.keyset):
                raise ValueError("wrong cursor length")
            if reverse not in (0, 1) or not all(
                isinstance(v, str) and "\x00" not in v for v in raw_values
            ):
                raise ValueError("malformed cursor")
            values = [
                self.model._meta.get_field(key.lstrip("-")).to_python(value)
                for key, value in zip(self.keyset, raw_values, strict=True)
            ]
        except (ValueError, KeyError, TypeError, binascii.Error, DjangoValidationError):
            raise ValidationError({"cursor": [self.invalid_cursor_message]}) from None
        return values, bool(reverse)


def _flip(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(key[1:] if key.startswith("-") else f"-{key}" for key in keys)
