"""The ledger is append-only in the database too: a trigger refuses UPDATE and DELETE of a ledger
entry on PostgreSQL, whatever the code path (a SQL fix, a forgotten queryset). Corrections are
new entries. SQLite (development, fast tests) keeps the model's guards only: Django's flush
empties tables with DELETE there, which a trigger would refuse."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION portal_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_ledgerentry is append-only: add a correcting entry instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_ledgerentry_append_only BEFORE UPDATE OR DELETE ON portal_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION portal_ledgerentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS portal_ledgerentry_append_only ON portal_ledgerentry;
DROP FUNCTION IF EXISTS portal_ledgerentry_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("portal", "0009_agents_planning_permissions")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
