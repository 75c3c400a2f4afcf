"""Trigram indexes for the family search by phone (portal/services/family_search.py): a number
dictated at the counter is looked for inside each stored number (`LIKE '%…%'` on its digits),
which without them is a regular expression on every family's and every guardian's phones."""

from django.db import migrations

INDEXES = """
CREATE INDEX portal_family_phone_trgm ON portal_family
    USING gin (preau_phone_key(phone) gin_trgm_ops, preau_phone_key(phone_secondary) gin_trgm_ops);
CREATE INDEX portal_user_phone_trgm ON portal_user USING gin (preau_phone_key(phone) gin_trgm_ops);
"""

DROP = """
DROP INDEX IF EXISTS portal_family_phone_trgm;
DROP INDEX IF EXISTS portal_user_phone_trgm;
"""


def run(sql):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in sql.split(";\n"):
                if statement.strip():
                    schema_editor.execute(statement)
    return operation


class Migration(migrations.Migration):
    dependencies = [("portal", "0019_app_tokens")]

    operations = [migrations.RunPython(run(INDEXES), run(DROP))]
