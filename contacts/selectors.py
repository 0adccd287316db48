"""Reads for contacts: every query takes the workspace, so no caller can forget to scope it."""

from django.db import connection
from django.db.models import Q, QuerySet

from contacts.models import Contact
from parsalink.core.ids import is_valid_id

SEARCH_MAX_LENGTH = 100


def contact_list(*, workspace_id: str, search: str | None = None) -> QuerySet[Contact]:
    """The workspace's contacts, optionally narrowed by a case-insensitive substring search.

    The search is `UPPER(col) LIKE UPPER('%term%')` over first/last name, email and company
    (Django's icontains, wildcards escaped). On PostgreSQL a trigram index on exactly those
    expressions (contacts/migrations/0003_contact_search_trigram_index.py) serves a rare term of
    3+ characters; for a common term the planner walks the page's ordering index and stops after
    pageSize + 1 matches. SQLite scans (docs/contacts-and-activity.md).
    """
    queryset = Contact.objects.filter(workspace_id=workspace_id)
    if search:
        queryset = queryset.filter(
            Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(company__icontains=search)
        )
    return queryset


def contact_get(*, workspace_id: str, contact_id: str) -> Contact | None:
    """One contact of the workspace, or None: a foreign or malformed id looks like a missing one."""
    if not is_valid_id(contact_id, "ct"):
        return None
    return Contact.objects.filter(workspace_id=workspace_id, pk=contact_id).first()


_FIELDS = Contact._meta.concrete_fields
_SELECT = ", ".join(field.column for field in _FIELDS)
_ATTNAMES = [field.attname for field in _FIELDS]


def contact_keyset_page(
    *, workspace_id: str, keyset: tuple[str, ...], after: list | None, limit: int
) -> list[Contact]:
    """Up to `limit` contacts of the workspace in `keyset` order (fields, all "-"-prefixed or
    none, ending with "id"), starting after the row whose keys are `after`.

    The statement the ORM would build for contact_list() without search, written out: the ORM
    compiles it afresh on every request, which cost more CPU than running it. An index of
    contacts/models.py serves each keyset.
    """
    descending = keyset[0].startswith("-")
    fields = [Contact._meta.get_field(key.lstrip("-")) for key in keyset]
    columns = ", ".join(field.column for field in fields)
    direction = "DESC" if descending else "ASC"
    where, params = "workspace_id = %s", [workspace_id]
    if after is not None:
        placeholders = ", ".join(["%s"] * len(fields))
        where += f" AND ({columns}) {'<' if descending else '>'} ({placeholders})"
        params += [
            field.get_db_prep_value(value, connection)
            for field, value in zip(fields, after, strict=True)
        ]
    order = ", ".join(f"{field.column} {direction}" for field in fields)
    sql = (
        f"SELECT {_SELECT} FROM {Contact._meta.db_table} "  # noqa: S608 (names; values are params)
        f"WHERE {where} ORDER BY {order} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        rows = cursor.fetchall()
    return [Contact.from_db(connection.alias, _ATTNAMES, row) for row in rows]
