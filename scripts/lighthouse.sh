#!/usr/bin/env bash
# Lighthouse (mobile, the default form factor) on the home page, the login page and a family's
# planning, with Debian's Chromium, against the demo town served on 127.0.0.1 by gunicorn with
# the production settings (compressed, hashed static files; SQLite in a temporary folder).
# Prints performance, accessibility and best-practices scores; reports in $OUT (default
# lighthouse-reports/). Usage: scripts/lighthouse.sh   (PY=… to use another Python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8765}
OUT=${OUT:-lighthouse-reports}
LH_DIR=.lighthouse
LIGHTHOUSE="$LH_DIR/node_modules/.bin/lighthouse"
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

[ -x "$CHROME_PATH" ] || bash scripts/install-chromium.sh
# 12.2.3: Lighthouse 13 needs Node 22; Debian's Node is 20.
[ -x "$LIGHTHOUSE" ] || npm install --prefix "$LH_DIR" --no-audit --no-fund --save-exact lighthouse@12.2.3

WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

export DJANGO_SETTINGS_MODULE=website.settings.production
export SECRET_KEY="lighthouse-local-only-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DATABASE_URL="sqlite:///$WORK/db.sqlite3" ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0 PREAU_ADMIN_REQUIRE_2FA=false LOG_LEVEL=WARNING
export STATIC_ROOT="$WORK/static" MEDIA_ROOT="$WORK/media" PRIVATE_MEDIA_ROOT="$WORK/private"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py load_demo > /dev/null
"$PY" manage.py collectstatic --noinput -v0
# A logged-in session of the demo family, passed to Lighthouse as a cookie header.
SESSION=$("$PY" manage.py shell -v0 -c "
from django.test import Client
from portal.models import User
client = Client()
client.force_login(User.objects.get(email='famille.demo@example.org'))
print(client.cookies['sessionid'].value)")
printf '{"Cookie": "sessionid=%s"}' "$SESSION" > "$WORK/headers.json"

"$PY" -m gunicorn website.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --log-level warning &
SERVER=$!
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/famille/connexion/" && break; sleep 0.2; done

mkdir -p "$OUT"
run() {  # name, path, extra options
  local name=$1 path=$2; shift 2
  "$LIGHTHOUSE" "http://127.0.0.1:$PORT$path" --quiet --form-factor=mobile \
    --only-categories=performance,accessibility,best-practices \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" \
    --output=json --output-path="$OUT/$name.json" "$@"
  node -e '
    const r = require(process.argv[1]);
    const s = (k) => Math.round(r.categories[k].score * 100);
    console.log(`${process.argv[2].padEnd(9)} performance ${s("performance")}  accessibility ${s("accessibility")}  best practices ${s("best-practices")}  (${r.finalDisplayedUrl})`);
  ' "$(realpath "$OUT/$name.json")" "$name"
}
run home /
run login /famille/connexion/
run planning /famille/planning/ --extra-headers="$WORK/headers.json"
