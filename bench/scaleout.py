"""Scale-out proof: two gunicorn instances behind Debian's nginx on this machine, sharing one
PostgreSQL database and one Redis (cache, sessions, lockout counters, the page caches).

    bash scripts/install-nginx.sh
    python bench/scaleout.py --levels 150:session,2500:password     # through /work/wt/bench-run

Checks, each instance asked directly (A and B):
1. a family logged in through A stays logged in through B (and a logout through B ends it on A);
2. a day booked through A shows at once on B's planning, which B had just rendered and kept;
3. a public page B keeps for anonymous visitors changes on both at once when an editor publishes;
4. failed logins through A and B add up to one lockout.
Then the Locust rush (bench/rush) through nginx, and `check_wallets`. Stops what it started.
Uses the rush's town (bench/rush/run.py prepares it when its accounts file is missing).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rush import run as rush  # noqa: E402
from bench.stack import PORT_BASE, ROOT, Stack  # noqa: E402

PROXY, APP_A, APP_B = PORT_BASE, PORT_BASE + 3, PORT_BASE + 4
BOOK = re.compile(r'name="book" value="(\d+:\d+:[\d-]+)"')


def login(session, base, email, password):
    session.get(f"{base}/famille/connexion/")
    return session.post(f"{base}/famille/connexion/", allow_redirects=False, data={
        "username": email, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/famille/connexion/"})


def check(label, ok, detail=""):
    print(f"  [{'ok' if ok else 'FAILED'}] {label}{(': ' + detail) if detail else ''}")
    return ok


def consistency(data):
    a, b = f"http://127.0.0.1:{APP_A}", f"http://127.0.0.1:{APP_B}"
    account = data["users"][-1]
    results = []
    print("two instances, one database, one Redis:")

    family = requests.Session()
    answer = login(family, a, account["email"], data["password"])
    dashboard = family.get(f"{b}/famille/", allow_redirects=False)
    results.append(check("logged in through A, still logged in through B",
                         answer.status_code == 302 and dashboard.status_code == 200,
                         f"login {answer.status_code}, dashboard on B {dashboard.status_code}"))

    today = datetime.date.today()
    month = (today.replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")
    url = f"/famille/planning/?mois={month}"
    before = family.get(b + url).text
    family.get(b + url)  # B now serves this page from its memory
    cell = BOOK.findall(before)[0]
    booked = family.post(f"{a}/famille/planning/clic/", allow_redirects=False, data={
        "scope": "family", "mois": month, "book": cell},
        headers={"X-CSRFToken": family.cookies["csrftoken"], "Referer": a + url})
    after = family.get(b + url).text
    results.append(check("a day booked through A is shown at once on B's kept planning",
                         booked.status_code == 302 and f'name="book" value="{cell}"' not in after
                         and after.count('name="cancel"') == before.count('name="cancel"') + 1,
                         f"booking {booked.status_code}, cell {cell}"))

    anonymous = requests.Session()
    anonymous.get(f"{b}/")
    kept = anonymous.get(f"{b}/").headers.get("Cache-Control")
    title = f"Accueil publié {os.getpid()}"
    code = ("import django; django.setup(); from home.models import HomePage; h = HomePage.objects.get(); "
            f"h.title = {title!r}; h.save_revision().publish()")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.settings",
           "REDIS_URL": f"redis://127.0.0.1:{rush.REDIS_PORT}/0"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    on_a, on_b = requests.get(f"{a}/").text, requests.get(f"{b}/").text
    results.append(check("a page kept for anonymous visitors follows a publication on both at once",
                         kept == "private, no-cache" and title in on_a and title in on_b))

    logged_out = family.post(f"{b}/famille/deconnexion/", allow_redirects=False,
                             data={"csrfmiddlewaretoken": family.cookies["csrftoken"]},
                             headers={"Referer": f"{b}/famille/"})
    gone = family.get(f"{a}/famille/", allow_redirects=False)
    results.append(check("logged out through B, logged out on A", logged_out.status_code == 302
                         and gone.status_code == 302 and "/connexion/" in gone.headers.get("Location", "")))

    victim = data["users"][-2]["email"]
    for i in range(5):
        login(requests.Session(), (a, b)[i % 2], victim, "wrong-password-123")
    locked = login(requests.Session(), b, victim, data["password"])
    results.append(check("5 failed logins alternating A and B lock the account on both",
                         "Compte temporairement bloqué" in locked.text, f"status {locked.status_code}"))
    return all(results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="150:session,2500:password",
                        help="users:login for each Locust run through the proxy")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--logins-per-second", type=int, default=4,
                        help="nginx's limit for login posts (~what the app servers can hash)")
    parser.add_argument("--families", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=2, help="per instance")
    args = parser.parse_args()
    stack = Stack()
    try:
        stack.start_redis(rush.REDIS_PORT)
        redis_url = f"redis://127.0.0.1:{rush.REDIS_PORT}/0"
        if not rush.DATA_PATH.exists():
            rush.prepare_town(args.families, redis_url)
        data = json.loads(rush.DATA_PATH.read_text())
        env = {"REDIS_URL": redis_url, "PREAU_TRUSTED_PROXIES": "1"}
        stack.start_gunicorn(APP_A, env, workers=args.workers, name="gunicorn:A")
        stack.start_gunicorn(APP_B, env, workers=args.workers, name="gunicorn:B")
        stack.start_nginx(PROXY, [APP_A, APP_B], logins_per_second=args.logins_per_second)
        print(f"nginx :{PROXY} → gunicorn A :{APP_A} and B :{APP_B} ({args.workers} sync workers each), "
              f"Redis :{rush.REDIS_PORT}, PostgreSQL {rush.DATABASE_URL.rsplit('/', 1)[1]}")
        ok = consistency(data)
        for level in args.levels.split(","):
            users, login = level.split(":")
            proxy = f"http://127.0.0.1:{PROXY}"
            ok = rush.run_level(proxy, int(users), args.duration, login, stack.tmp)[1] and ok
        sys.exit(0 if ok else 1)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
