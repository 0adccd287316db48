"""A trigram index for ?search= on PostgreSQL (nothing on SQLite).

The search is Django's `icontains`, which PostgreSQL receives as
`UPPER("col"::text) LIKE UPPER('%term%')`; the index is on exactly those expressions, so a rare
term becomes a bitmap lookup instead of a scan of the workspace. It lives only here, not in the
model's Meta: SQLite cannot build a GIN index, and it would rebuild every index in the model state
whenever it remakes the table. Built CONCURRENTLY (hence a non-atomic migration) so a large
contacts table keeps taking writes while it is built.
"""

from django.db import migrations

INDEX = "contacts_contact_search_trgm_idx"
COLUMNS = ("first_name", "last_name", "email", "company")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    expressions = ", ".join(f'UPPER("{column}"::text) gin_trgm_ops' for column in COLUMNS)
    with schema_editor.connection.cursor() as cursor:
        # An interrupted CONCURRENTLY build leaves an INVALID index behind: build it again.
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX]
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute(f"DROP INDEX CONCURRENTLY {INDEX}")
        # Building it over a large table outlasts the serving DB_STATEMENT_TIMEOUT_MS.
        cursor.execute("SET statement_timeout TO 0")
        try:
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
                f"ON contacts_contact USING gin ({expressions})"
            )
        finally:
            cursor.execute("RESET statement_timeout")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0002_drop_redundant_fk_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
