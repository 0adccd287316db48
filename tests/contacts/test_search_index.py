"""?search= on PostgreSQL is served by the trigram index of contacts/migrations/0003 for a rare
term, and the index path gives exactly the rows the plain scan would."""

import pytest
from django.db import connection

from contacts.selectors import contact_list
from tests.factories import make_contact

INDEX = "contacts_contact_search_trgm_idx"
FILLER = 20_000

# Enough rows that walking the workspace's id index costs more than the index lookup, as it does
# in a large workspace.
_FILL_SQL = """
INSERT INTO contacts_contact
    (id, workspace_id, first_name, last_name, email, phone, company, notes, created_at, updated_at)
SELECT 'ct_' || lpad(i::text, 26, '0'), %s, 'First' || i, 'Last' || i,
       'filler' || i || '@example.com', '', 'Example Inc', '', now(), now()
FROM generate_series(1, %s) AS i
"""


def fill(workspace) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_FILL_SQL, [workspace.id, FILLER])
        # New entries wait in the GIN index's pending list, which the planner prices high;
        # autovacuum would merge them, but not inside the test's transaction.
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [INDEX])
        cursor.execute("ANALYZE contacts_contact")


def page(workspace, term: str):
    """The default list's first page as the view asks for it (newest first, pageSize 10 + 1)."""
    return contact_list(workspace_id=workspace.id, search=term).order_by("-id")[:11]


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["lovelace", "100% Ada", "snake_case", "ZZQX"])
def test_a_rare_term_is_looked_up_in_the_trigram_index(workspace, term):
    fill(workspace)
    plan = page(workspace, term).explain()
    assert INDEX in plan, plan


@pytest.mark.django_db
def test_the_index_path_finds_substrings_in_every_searched_column(workspace):
    fill(workspace)
    hits = {
        make_contact(workspace, first_name="Lovelace").id,
        make_contact(workspace, first_name="A", last_name="de LOVELACE").id,
        make_contact(workspace, first_name="B", email="ada.lovelace@example.com").id,
        make_contact(workspace, first_name="C", company="Lovelace & Babbage").id,
    }
    make_contact(workspace, first_name="D", notes="lovelace, but only in the notes")
    assert INDEX in page(workspace, "loVElace").explain()
    assert {c.id for c in page(workspace, "loVElace")} == hits


@pytest.mark.django_db
def test_the_index_path_treats_like_wildcards_literally(workspace):
    fill(workspace)
    percent = make_contact(workspace, first_name="Rate 100% Ada").id
    make_contact(workspace, first_name="Rate 1000 Ada")
    underscore = make_contact(workspace, first_name="snake_case").id
    make_contact(workspace, first_name="snakeXcase")
    assert [c.id for c in page(workspace, "100% Ada")] == [percent]
    assert [c.id for c in page(workspace, "snake_case")] == [underscore]


@pytest.mark.django_db
def test_the_index_path_stays_inside_the_workspace(workspace, other_workspace):
    fill(workspace)
    make_contact(other_workspace, first_name="Lovelace")
    mine = make_contact(workspace, first_name="Lovelace").id
    assert [c.id for c in page(workspace, "lovelace")] == [mine]
