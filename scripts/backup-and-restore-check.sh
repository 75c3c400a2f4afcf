#!/usr/bin/env bash
# A backup that is known to restore: dumps the database named by DATABASE_URL (pg_dump, custom
# format), restores the dump into a scratch database on the same server, and checks the copy:
# the same row counts for the money and booking tables, `manage.py migrate --check` (the copy's
# schema is the code's), `manage.py check_wallets` (every balance equals its ledger, every
# booking has its entries) and the ledger's append-only trigger still refusing an UPDATE.
# Keeps the dump (BACKUP_DIR, default ./backups) and drops the scratch database.
#
#   DATABASE_URL=postgres://preau@db:5432/preau scripts/backup-and-restore-check.sh
#
# In production run it nightly with the app's environment, copy the dump and PRIVATE_MEDIA_ROOT
# (or the private bucket) off the machine, encrypted (docs/deployment.md §10).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL is required}"
PY=${PY:-.venv/bin/python}
BACKUP_DIR=${BACKUP_DIR:-backups}
mkdir -p "$BACKUP_DIR"
source_db=${DATABASE_URL##*/}
server=${DATABASE_URL%/*}
scratch="${source_db}_restore_check"
dump="$BACKUP_DIR/${source_db}-$(date -u +%Y%m%dT%H%M%SZ).dump"

count() {  # url → "table=count …" for the tables whose loss would cost families money or days
  psql "$1" -Atc "SELECT 'families=' || (SELECT count(*) FROM portal_family)
    || ' bookings=' || (SELECT count(*) FROM portal_booking)
    || ' ledger=' || (SELECT count(*) FROM portal_ledgerentry)
    || ' balance=' || (SELECT coalesce(sum(balance), 0) FROM portal_wallet)
    || ' purchases=' || (SELECT count(*) FROM portal_purchase)
    || ' documents=' || (SELECT count(*) FROM documents_preaudocument)"
}

started=$(date +%s)
pg_dump --format=custom --no-owner --file "$dump" "$DATABASE_URL"
before=$(count "$DATABASE_URL")
echo "dump: $dump ($(du -h "$dump" | cut -f1), $(( $(date +%s) - started )) s) — source: $before"

psql "$server/postgres" -qc "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
psql "$server/postgres" -qc "CREATE DATABASE \"$scratch\""
trap 'psql "$server/postgres" -qc "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"' EXIT
started=$(date +%s)
pg_restore --no-owner --exit-on-error --dbname "$server/$scratch" "$dump"
after=$(count "$server/$scratch")
echo "restored into $scratch in $(( $(date +%s) - started )) s — copy: $after"
[ "$before" = "$after" ] || { echo "FAILED: the copy's counts differ from the source's"; exit 1; }

export DATABASE_URL="$server/$scratch"
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-website.settings.dev}
"$PY" manage.py migrate --check >/dev/null || { echo "FAILED: the copy's schema is not the code's"; exit 1; }
"$PY" manage.py check_wallets
if [ "$(psql "$DATABASE_URL" -Atc 'SELECT count(*) FROM portal_ledgerentry')" != "0" ]; then
  refusal=$(psql "$DATABASE_URL" -qc "UPDATE portal_ledgerentry SET quantity = quantity
    WHERE id = (SELECT min(id) FROM portal_ledgerentry)" 2>&1 || true)
  case "$refusal" in *append-only*) ;; *)
    echo "FAILED: the ledger's append-only trigger did not come back with the copy ($refusal)"; exit 1;;
  esac
fi
echo "restore check ok: same counts, migrations applied, wallets consistent, ledger append-only"
