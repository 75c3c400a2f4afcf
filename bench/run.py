"""Serve Préau with gunicorn (2 sync workers) on PostgreSQL and measure, in one run, with wrk:
the floor view, one child's month, a family month (3 children × 4 services) and a booking click.

    python bench/run.py            # DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/preau_bench

With Redis (REDIS_URL, or a throw-away redis-server it starts), the pages are measured again
with REDIS_URL at a closed port: Préau with Redis down.

The database named in DATABASE_URL is dropped and recreated. Prints req/s, p50/p95 and ratios.
"""

import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/preau_bench")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
DURATION = os.environ.get("BENCH_DURATION", "5s")  # longer runs outrun the open cells
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "4")
BIN = Path(sys.executable).parent

DONE_LUA = """
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"rps": %.1f, "p50": %.2f, "p95": %.2f, "errors": %d, "non2xx": %d}\\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status))
end
"""


def recreate_database():
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    admin = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()


def prepare():
    """Demo town plus two families with 3 children at a school with 4 services, and a session
    each: the pages and the 4-connection clicks use the first, the one-connection clicks the
    second, the clicks with Redis down the third (one family would run out of days to book)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from portal.models import School, Service

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))
    school = School.objects.get(name="École Jules-Ferry")
    # The bench's shape stays the 4 services it always measured: the demo's waiting-list
    # workshop (3cec8ae), a fifth and capacity-limited one, is taken off this school.
    for workshop in Service.objects.filter(schools=school, capacity__isnull=False).order_by("-pk")[:1]:
        workshop.schools.remove(school)
    first = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).replace(day=1)
    main, solo, down = (bench_family(name, school) for name in ("bench", "solo", "down"))
    return {**main, "month": first.strftime("%Y-%m"), "solo": solo, "down": down}


def bench_family(name, school):
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from portal.models import Child, Family, FileItem, FileRequirement, RegulationAcceptance, Service, User
    from portal.services import deadlines, dossier, planning_states
    from portal.services.wallet import credit_tickets, get_wallet

    user = User.objects.create_user(email=f"{name}@example.org", password="bench-password-123")
    family = Family.objects.create(name=f"Famille {name}", status=Family.Status.VALIDATED)
    family.guardians.add(user)
    children = [Child.objects.create(family=family, first_name=n, last_name=name, school=school,
                                     birth_date=datetime.date(2018, 1, 1)) for n in ("Ana", "Bob", "Cyd")]
    # A complete file (every piece accepted, the current regulation accepted): bookings are open.
    for requirement in FileRequirement.objects.filter(kind=FileRequirement.Kind.UPLOAD):
        FileItem.objects.create(family=family, requirement=requirement, state=FileItem.State.ACCEPTED)
    regulation = dossier.current_regulation()
    if regulation is not None:
        RegulationAcceptance.objects.create(family=family, document=regulation, accepted_by=user,
                                            document_title=regulation.title, version=regulation.version)
    assert dossier.bookings_open(family), dossier.missing_for_bookings(family)
    services = list(Service.objects.filter(schools=school))
    assert len(services) == 4, services
    for ticket_type in {s.ticket_type for s in services}:
        credit_tickets(get_wallet(family, ticket_type), 100_000, "Bench", by=None)
    days = []  # every day from next month to the end of the school year (930 open cells in the demo)
    start = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    for k in range(10):
        month = (start + datetime.timedelta(days=31 * k)).replace(day=1)
        days += deadlines.month_days(month.year, month.month)
    grid = planning_states.day_states(children, days, now=timezone.now())
    cells = [f"{c.child.pk}:{c.service.pk}:{c.day.isoformat()}" for row in grid.rows
             for c in row.cells.values() if c.state == "available"]
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "portal.backends.UserBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return {"cookie": session.session_key, "child": children[0].pk, "cells": cells}


def wrk(url, script, tmp, name, connections=CONNECTIONS, duration=DURATION):
    path = Path(tmp) / f"{name}.lua"
    path.write_text(script + DONE_LUA)
    threads = min(2, int(connections))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "-s", str(path), url],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(re.search(r"RESULT (\{.*\})", out).group(1))


def start_redis():
    """Production shape: a Redis cache and cached_db sessions. Starts a throw-away redis-server
    (no persistence) unless REDIS_URL is given; without one, the cache is per worker (locmem)."""
    if os.environ.get("REDIS_URL"):
        return None
    if not shutil.which("redis-server"):
        print("redis-server not found (apt-get install -y redis-server): measuring with a per-worker "
              "locmem cache and database sessions.")
        return None
    port = int(os.environ.get("BENCH_REDIS_PORT", "6391"))
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                              "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return redis


def closed_port():
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    return port


def serve(env_overrides):
    """gunicorn with 2 sync workers, once it answers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_overrides}
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{PORT}",
                               "--log-level", "warning", "website.wsgi"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 180  # workers boot slowly on a loaded machine
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/floor/", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        sys.exit("gunicorn did not answer within 180 s")
    # One request per page first: the first request of a worker loads the URL conf and templates.
    for path in ("/famille/connexion/",):
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=30)
    return server


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).")
    redis = start_redis()
    try:
        run_all()
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()


def run_all():
    recreate_database()
    data = prepare()
    csrf = secrets.token_hex(16)  # an unmasked 32-character secret is a valid token
    cookie = f"sessionid={data['cookie']}; csrftoken={csrf}"
    base = f"http://127.0.0.1:{PORT}"
    server = serve({})
    try:
        get = f'wrk.headers["Cookie"] = "{cookie}"\n'
        # Every request a URL of its own, so the planning is computed and rendered each time:
        # what a parent's first view after a change costs (the page cache cannot answer it).
        fresh = get + """
local counter = 0
setup = function(thread) thread:set("offset", counter); counter = counter + 1 end
init = function(args) i = offset end
request = function()
  i = i + 2
  return wrk.format(nil, wrk.path .. "&n=" .. i)
end
"""
        child_url = f"{base}/famille/planning/enfant/{data['child']}/?mois={data['month']}"
        def post(family, step):
            listed = ",".join(f'"{c}"' for c in family["cells"])
            return f"""
wrk.method = "POST"
wrk.headers["Cookie"] = "sessionid={family['cookie']}; csrftoken={csrf}"
wrk.headers["X-CSRFToken"] = "{csrf}"
wrk.headers["HX-Request"] = "true"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local cells = {{{listed}}}
local counter, step = 0, 1
setup = function(thread) thread:set("offset", counter); counter = counter + 1 end
init = function(args) step = {step}; i = offset end
request = function()
  i = i + step
  local cell = cells[(i % #cells) + 1]
  return wrk.format(nil, "/famille/planning/clic/", nil,
    "scope=family&mois={data['month']}&book=" .. cell)
end
"""

        with tempfile.TemporaryDirectory() as tmp:
            results = {
                "floor (1 query + 31 cells, Django template)": wrk(f"{base}/bench/floor/", "", tmp, "floor"),
                "one child, month, 4 services": wrk(child_url, get, tmp, "child"),
                "one child, first view (computed each time)": wrk(child_url, fresh, tmp, "fresh"),
                "family 3 children × 4 services": wrk(
                    f"{base}/famille/planning/?mois={data['month']}", get, tmp, "family"),
                "booking click (htmx POST, cell or grid back)": wrk(
                    f"{base}/famille/planning/clic/", post(data, 2), tmp, "post"),
                # One parent clicking, nobody else: the latency a click has on an unloaded server.
                "booking click, one connection": wrk(
                    f"{base}/famille/planning/clic/", post(data["solo"], 1), tmp, "post1",
                    connections="1"),
            }
            if os.environ.get("REDIS_URL"):
                # The same pages with Redis not answering (a closed port): every page computed,
                # sessions from the database (issue 16).
                server.terminate()
                server.wait()
                server = serve({"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
                # The rows above ran on workers warmed by the earlier rows: warm these too (the
                # first requests of a worker import and compile templates), results discarded.
                wrk(child_url, get, tmp, "warm-child", duration="2s")
                wrk(f"{base}/famille/planning/?mois={data['month']}", get, tmp, "warm-family", duration="2s")
                results.update({
                    "Redis down: one child, first view": wrk(child_url, fresh, tmp, "fresh-down"),
                    "Redis down: one child, month": wrk(child_url, get, tmp, "child-down"),
                    "Redis down: family 3 children × 4 services": wrk(
                        f"{base}/famille/planning/?mois={data['month']}", get, tmp, "family-down"),
                    "Redis down: booking click": wrk(
                        f"{base}/famille/planning/clic/", post(data["down"], 2), tmp, "post-down"),
                })
    finally:
        server.terminate()
        server.wait()
    floor = results["floor (1 query + 31 cells, Django template)"]["rps"]
    child = results["one child, month, 4 services"]["rps"]
    print(f"\n{'page':48} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'× floor':>8}  errors")
    for name, r in results.items():
        print(f"{name:48} {r['rps']:8.1f} {r['p50']:8.2f} {r['p95']:8.2f} {r['rps'] / floor:8.2f}  "
              f"{r['errors'] + r['non2xx']}")
    family = results["family 3 children × 4 services"]["rps"]
    print(f"\nfamily page cost vs one child: {child / family:.2f}×  (aim ≤ 3)")
    print(f"one child vs floor: {child / floor:.2f}  (aim ≥ 0.5); computed each time: "
          f"{results['one child, first view (computed each time)']['rps'] / floor:.2f}")
    print(f"booking click p95: {results['booking click (htmx POST, cell or grid back)']['p95']:.1f} ms"
          f" with {CONNECTIONS} connections, {results['booking click, one connection']['p95']:.1f} ms"
          " with one  (aim < 50)")
    seconds = float(DURATION.rstrip("s")) if DURATION.rstrip("s").replace(".", "").isdigit() else 0
    for row, family in (("booking click (htmx POST, cell or grid back)", data),
                        ("booking click, one connection", data["solo"])):
        clicks = results[row]["rps"] * seconds
        if clicks > len(family["cells"]):
            print(f"warning: ~{clicks:.0f} clicks for {len(family['cells'])} open cells in '{row}': "
                  "some clicks hit a day booked already (a cheaper refusal); shorten BENCH_DURATION.")
    print(f"{len(data['cells'])} open cells per family were available to book; cache: "
          f"{'Redis' if os.environ.get('REDIS_URL') else 'locmem per worker'}.")
    if "Redis down: one child, month" in results:
        pairs = (("one child", "one child, month, 4 services", "Redis down: one child, month"),
                 ("family", "family 3 children × 4 services", "Redis down: family 3 children × 4 services"),
                 ("click", "booking click (htmx POST, cell or grid back)", "Redis down: booking click"))
        computed, down = (results[k]["rps"] for k in ("one child, first view (computed each time)",
                                                      "Redis down: one child, first view"))
        print(f"Redis down, one child computed: {down / computed:.2f}× the same page computed with Redis up")
        print("Redis down vs up: " + ", ".join(
            f"{label} {results[down]['rps'] / results[up]['rps']:.2f}×" for label, up, down in pairs))

if __name__ == "__main__":
    main()
