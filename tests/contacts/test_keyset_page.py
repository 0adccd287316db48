"""contact_keyset_page, the list statement written out, against the ORM statement it replaces."""

import pytest
from django.forms.models import model_to_dict

from contacts.api import ORDERINGS
from contacts.models import Contact
from contacts.pagination import KeysetCursorPagination, _flip
from contacts.selectors import contact_keyset_page, contact_list
from tests.contacts.test_contact_list import bulk
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

KEYSETS = [*ORDERINGS.values(), ("-id",)]


def _orm_page(workspace_id: str, keyset, after, limit: int) -> list[Contact]:
    """The page KeysetCursorPagination reads from contact_list()'s queryset (the search path)."""
    pagination = KeysetCursorPagination()
    pagination.model = Contact
    return pagination.queryset_rows(contact_list(workspace_id=workspace_id), keyset, after, limit)


def _rows(contacts: list[Contact]) -> list[dict]:
    return [{**model_to_dict(c), "id": c.id, "created_at": c.created_at} for c in contacts]


@pytest.mark.parametrize("keyset", [*KEYSETS, *map(_flip, KEYSETS)], ids=str)
def test_every_page_equals_the_orm_statements_page(workspace, other_workspace, keyset):
    bulk(workspace, 23)
    make_contact(other_workspace, first_name="Outsider")
    after, pages = None, 0
    while True:
        ours = contact_keyset_page(workspace_id=workspace.id, keyset=keyset, after=after, limit=4)
        assert _rows(ours) == _rows(_orm_page(workspace.id, keyset, after, 4))
        if len(ours) < 4:
            break
        last = ours[-1]
        after = [getattr(last, Contact._meta.get_field(k.lstrip("-")).attname) for k in keyset]
        pages += 1
    assert pages == 5  # 23 rows, 4 a page: the walk really paged


def test_it_returns_full_model_rows_of_the_workspace_only(workspace, other_workspace):
    mine = make_contact(workspace, first_name="Mine", company="Acme", notes="ü\n")
    make_contact(other_workspace, first_name="Theirs")
    [row] = contact_keyset_page(workspace_id=workspace.id, keyset=("-id",), after=None, limit=10)
    assert _rows([row]) == _rows([Contact.objects.get(pk=mine.pk)])
    assert row._state.adding is False  # a loaded instance, as the ORM gives
