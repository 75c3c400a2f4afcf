"""The ledger's trigger lets one change through: the anonymisation of a family replacing the
*reason* texts of its entries (they may name a child, or repeat an excused absence's reason),
and only when the transaction has said so (`SET LOCAL preau.ledger_redaction = on`, done by
`wallet.redact_reasons`). Every other column must stay as it was (compared as the whole row
without `reason`, so a column added later is protected too); any other UPDATE, and every
DELETE, is still refused. SQLite has no trigger (see 0010)."""

from django.db import migrations

REDACTABLE = """
CREATE OR REPLACE FUNCTION portal_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('preau.ledger_redaction', true), '') = 'on'
       AND (to_jsonb(NEW) - 'reason') = (to_jsonb(OLD) - 'reason') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'portal_ledgerentry is append-only: add a correcting entry instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION portal_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_ledgerentry is append-only: add a correcting entry instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REDACTABLE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("portal", "0031_absence_report_household_required")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
