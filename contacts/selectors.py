"""Reads for contacts: every query takes the workspace, so no caller can forget to scope it."""

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
