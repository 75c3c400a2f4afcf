"""The agents' family search (portal/services/family_search.py): on PostgreSQL, the unaccent and
pg_trgm extensions, two IMMUTABLE functions the search and its indexes share, and trigram GIN
indexes on the names it compares. SQLite gets the same functions from Python at connection time,
and no index (nothing to do here)."""

from django.db import migrations

FUNCTIONS = r"""
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION preau_search_key(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT btrim(regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, $1)),
                                      '\s+', ' ', 'g')) $$;
CREATE OR REPLACE FUNCTION preau_phone_key(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT CASE WHEN d ~ '^33[0-9]{9}$' THEN '0' || substr(d, 3) ELSE d END
          FROM (SELECT regexp_replace($1, '[^0-9]', '', 'g') AS d) AS digits $$;
CREATE INDEX portal_family_name_trgm ON portal_family
    USING gin (preau_search_key(name) gin_trgm_ops);
CREATE INDEX portal_child_name_trgm ON portal_child
    USING gin (preau_search_key(first_name || ' ' || last_name) gin_trgm_ops);
CREATE INDEX portal_user_name_trgm ON portal_user
    USING gin (preau_search_key(first_name || ' ' || last_name) gin_trgm_ops);
"""

DROP = """
DROP INDEX IF EXISTS portal_family_name_trgm;
DROP INDEX IF EXISTS portal_child_name_trgm;
DROP INDEX IF EXISTS portal_user_name_trgm;
DROP FUNCTION IF EXISTS preau_search_key(text);
DROP FUNCTION IF EXISTS preau_phone_key(text);
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in sql.split(";\n"):
                if statement.strip():
                    schema_editor.execute(statement)
    return operation


class Migration(migrations.Migration):
    dependencies = [("portal", "0016_outgoing_email")]

    operations = [migrations.RunPython(run(FUNCTIONS), run(DROP))]
