"""A big town's back office: every agent listing, search, export and the nightly check, timed on
the demo town and on a town of 3,000 families, 5,000 children and a school year of canteen
bookings, in the same run (Django test client, in-process, PostgreSQL).

    .venv/bin/python bench/big_town.py build     # both databases (≈ 1–2 min, may run anytime)
    .venv/bin/python bench/big_town.py measure   # the table (run it on a quiet machine)
    .venv/bin/python bench/big_town.py           # both

BIG_TOWN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/preau_big_town) and
DEMO_TOWN_DATABASE_URL (default …/preau_demo_town) are **dropped and recreated** by `build`.
Both get the migrations and `load_demo`; the big town then gets, in bulk SQL: 3,000 families
(names from 40 French surnames with accents, so a search finds dozens), 6,000 guardians with
phones, 5,000 children in 8 schools, a canteen booked on ≈ 93 % of the school year's meal days
(2 % cancelled with the ticket given back), each booking with its ledger debit, ten paid card
purchases per family crediting what it used plus a remainder, and 20,000 audit entries. Balances
equal their ledgers, so `check_wallets` passes. Then VACUUM ANALYZE, as autovacuum would.

Each page is fetched once to warm up, then BIG_TOWN_RUNS (3) times: best time and the SQL queries
of one call.
Exports: time to the first byte and to the last, and the Python memory peak (tracemalloc).
"""

import contextlib
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIG = os.environ.get("BIG_TOWN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/preau_big_town")
DEMO = os.environ.get("DEMO_TOWN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/preau_demo_town")
FAMILIES = 3000
CHILDREN = 5000
SCHOOLS = 8
RUNS = int(os.environ.get("BIG_TOWN_RUNS", "3"))  # best of RUNS after a warm-up
SURNAMES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
            "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David",
            "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
            "Rousseau", "Vincent", "Müller", "Lefebvre", "Faure", "André", "Mercier", "Blanc",
            "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Nguyen"]
FIRST_NAMES = ["Léa", "Chloé", "Zoé", "Inès", "Jade", "Louise", "Emma", "Manon", "Hélène", "Anaïs",
               "Lucas", "Hugo", "Théo", "Noé", "Jérôme", "Raphaël", "Léo", "Gabriel", "Adèle", "Éloïse"]


def django_setup(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


def recreate(url):
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child_process(*args, url):
    """Run this script again for one town: each database gets a Django process of its own."""
    out = subprocess.run([sys.executable, __file__, *args], env={**os.environ, "DATABASE_URL": url},
                         capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    out.check_returncode()
    return out.stdout


# Building ------------------------------------------------------------------------------------

def build_town(kind):
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    if kind == "big":
        add_big_town()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    print(f"{kind} town built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def add_big_town():
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from portal.models import Child, Family, School, SchoolYear, Service, TicketType, User
    from portal.services import deadlines

    year = SchoolYear.current()
    meal = TicketType.objects.get(name="Repas")
    demo_schools = list(School.objects.order_by("pk"))
    schools = demo_schools + [School.objects.create(name=f"École {n}")
                              for n in range(len(demo_schools) + 1, SCHOOLS + 1)]
    canteen = Service.objects.get(name="Cantine")
    canteen.schools.add(*schools)
    closures = deadlines.closures_between(year.start, year.end)
    days = [year.start + datetime.timedelta(days=n) for n in range((year.end - year.start).days + 1)]
    days = [d for d in days if canteen.runs_on(d) and not deadlines.public_holiday_name(d)
            and deadlines.closure_for(closures, None, canteen.pk, d) is None]
    password = make_password(None)
    with transaction.atomic():
        families = Family.objects.bulk_create(
            Family(name=f"Famille {SURNAMES[n % 40]} {n // 40 + 1}", status=Family.Status.VALIDATED,
                   address=f"{n % 90 + 1} rue de la République", postcode="75011", city="Saint-Exemple",
                   phone=f"06 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d} 1{n % 10}")
            for n in range(FAMILIES))
        users = User.objects.bulk_create(
            User(email=f"parent{n}.{g}@example.org", password=password,
                 first_name=FIRST_NAMES[(n + g * 7) % 20], last_name=SURNAMES[n % 40],
                 phone=f"07 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d} 2{g}")
            for n in range(FAMILIES) for g in (0, 1))
        Family.guardians.through.objects.bulk_create(
            Family.guardians.through(family_id=families[i // 2].pk, user_id=u.pk)
            for i, u in enumerate(users))
        classes = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
        Child.objects.bulk_create(
            Child(family=families[n % FAMILIES], first_name=FIRST_NAMES[(n * 3) % 20],
                  last_name=SURNAMES[(n % FAMILIES) % 40],
                  birth_date=datetime.date(2016 + n % 6, 1 + n % 12, 1),
                  school=schools[(n % FAMILIES) % SCHOOLS], school_class=classes[n % 8],
                  reviewed_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
            for n in range(CHILDREN))
        first_family = families[0].pk
        with connection.cursor() as cursor:
            bulk_sql(cursor, meal.pk, canteen.pk, first_family, days)


def bulk_sql(cursor, meal_id, canteen_id, first_family, days):
    """Bookings, ledger, purchases and balances of the new families, set-wise in PostgreSQL."""
    cursor.execute("""
        INSERT INTO portal_wallet (family_id, ticket_type_id, balance)
        SELECT id, %s, 0 FROM portal_family WHERE id >= %s""", [meal_id, first_family])
    cursor.execute("CREATE TEMP TABLE bench_days (day date, n int)")
    cursor.execute("INSERT INTO bench_days SELECT d, n FROM unnest(%s::date[]) WITH ORDINALITY AS t(d, n)",
                   [days])
    # ~93 % of meal days booked; 2 % of those cancelled with the ticket given back.
    cursor.execute("""
        INSERT INTO portal_booking (child_id, family_id, service_id, date, status, created_at,
                                    created_by_id, cancelled_at, cancelled_by_id, refunded)
        SELECT c.id, c.family_id, %s, d.day,
               CASE WHEN (c.id * 31 + d.n * 17) %% 100 < 2 THEN 'cancelled' ELSE 'active' END,
               d.day - 10, NULL,
               CASE WHEN (c.id * 31 + d.n * 17) %% 100 < 2 THEN d.day - 3 END, NULL,
               (c.id * 31 + d.n * 17) %% 100 < 2
        FROM portal_child c CROSS JOIN bench_days d
        WHERE c.family_id >= %s AND (c.id * 7 + d.n * 13) %% 100 < 93""", [canteen_id, first_family])
    cursor.execute("""
        INSERT INTO portal_ledgerentry (wallet_id, kind, quantity, reason, booking_id, created_at)
        SELECT w.id, 'booking', -1, '', b.id, b.created_at
        FROM portal_booking b JOIN portal_child c ON c.id = b.child_id
        JOIN portal_wallet w ON w.family_id = c.family_id AND w.ticket_type_id = %s
        WHERE c.family_id >= %s""", [meal_id, first_family])
    cursor.execute("""
        INSERT INTO portal_ledgerentry (wallet_id, kind, quantity, reason, booking_id, created_at)
        SELECT w.id, 'cancellation', 1, '', b.id, b.cancelled_at
        FROM portal_booking b JOIN portal_child c ON c.id = b.child_id
        JOIN portal_wallet w ON w.family_id = c.family_id AND w.ticket_type_id = %s
        WHERE c.family_id >= %s AND b.refunded""", [meal_id, first_family])
    # Ten card purchases per family, crediting what its bookings used plus 1 to 20 tickets.
    cursor.execute("""
        CREATE TEMP TABLE bench_need AS
        SELECT w.id AS wallet_id, w.family_id, -SUM(e.quantity) + 1 + w.family_id %% 20 AS need
        FROM portal_wallet w JOIN portal_ledgerentry e ON e.wallet_id = w.id
        WHERE w.family_id >= %s GROUP BY w.id""", [first_family])
    cursor.execute("""
        CREATE TEMP TABLE bench_purchase AS
        SELECT wallet_id, family_id, k,
               need / 10 + CASE WHEN k <= need % 10 THEN 1 ELSE 0 END AS quantity,
               TIMESTAMPTZ '2026-08-25 10:00+02' + (k - 1) * INTERVAL '30 days'
                   + family_id * INTERVAL '37 seconds' AS at
        FROM bench_need CROSS JOIN generate_series(1, 10) AS k""")
    cursor.execute("DELETE FROM bench_purchase WHERE quantity = 0")
    cursor.execute("ALTER TABLE bench_purchase ADD COLUMN entry_id bigint")
    cursor.execute("""
        WITH entries AS (
            INSERT INTO portal_ledgerentry (wallet_id, kind, quantity, reason, created_at)
            SELECT wallet_id, 'purchase', quantity, 'Achat en ligne ' || k, at FROM bench_purchase
            RETURNING id, wallet_id, reason)
        UPDATE bench_purchase p SET entry_id = e.id FROM entries e
        WHERE e.wallet_id = p.wallet_id AND e.reason = 'Achat en ligne ' || p.k""")
    cursor.execute("""
        INSERT INTO portal_purchase (token, family_id, ticket_type_id, quantity, unit_cents,
                                     amount_cents, method, reference, state, provider, checkout_url,
                                     ledger_entry_id, created_at, paid_at, refunded_quantity,
                                     refunded_cents)
        SELECT gen_random_uuid(), family_id, %s, quantity, 350, quantity * 350, 'card', '', 'paid',
               'stripe', '', entry_id, at, at, 0, 0
        FROM bench_purchase""", [meal_id])
    cursor.execute("""
        UPDATE portal_wallet w SET balance = s.total
        FROM (SELECT wallet_id, SUM(quantity) AS total FROM portal_ledgerentry GROUP BY wallet_id) s
        WHERE s.wallet_id = w.id AND w.family_id >= %s""", [first_family])
    cursor.execute("""
        INSERT INTO portal_auditlog (actor_id, created_at, action, family_id, target, before, after)
        SELECT (SELECT id FROM portal_user WHERE email = 'agent.demo@example.org'),
               TIMESTAMPTZ '2026-09-01 08:00+02' + n * INTERVAL '13 minutes',
               (ARRAY['family.validate', 'family.edit', 'booking.cancel', 'wallet.credit'])[1 + n %% 4],
               (SELECT min(id) FROM portal_family WHERE id >= %s) + n %% %s, 'Famille', '{}', '{}'
        FROM generate_series(1, 20000) AS n""", [first_family, FAMILIES])


# Measuring -----------------------------------------------------------------------------------

def pages():
    """(label, URL) of every agent listing, search and export; the same URLs on both towns."""
    from django.db.models import Count

    from portal.models import Child, School, Service

    school = School.objects.annotate(n=Count("children")).order_by("-n", "pk").first()
    canteen = Service.objects.get(name="Cantine")
    day = datetime.date(2027, 1, 11)  # a Monday in term time (zone B), no closure
    child = Child.objects.order_by("pk").first()
    return [
        ("/admin/reservations/", "/admin/reservations/"),
        ("/admin/reservations/?q=… (a child's name)", f"/admin/reservations/?q={child.last_name}"),
        ("/admin/reservations/?q=… (a rare name)", "/admin/reservations/?q=benali"),
        ("/admin/reservations/?day=… (a day)", f"/admin/reservations/?day={day}"),
        ("/admin/reservations/?week=…&school=…", f"/admin/reservations/?week={day}&school={school.pk}"),
        ("/admin/reservations/?service=…", f"/admin/reservations/?service={canteen.pk}"),
        ("/admin/porte-monnaie/", "/admin/porte-monnaie/"),
        ("/admin/porte-monnaie/?q=…", "/admin/porte-monnaie/?q=Lefèvre"),
        ("/admin/paiements/", "/admin/paiements/"),
        ("/admin/paiements/?week=…", f"/admin/paiements/?week={datetime.date(2026, 11, 23)}"),
        ("/admin/familles/", "/admin/familles/"),
        ("/admin/familles/?q=lefevre (accents)", "/admin/familles/?q=lefevre"),
        ("/admin/familles/?q=helene guerin (guardian)", "/admin/familles/?q=helene%20guerin"),
        ("/admin/familles/?q=Dupond (typo)", "/admin/familles/?q=Dupond"),
        ("/admin/familles/?q=06 00 12 34 (phone)", "/admin/familles/?q=06%2000%2012%2034"),
        ("/admin/familles/?q=parent…@ (e-mail)", "/admin/familles/?q=parent1234.0%40example.org"),
        ("/admin/enfants/", "/admin/enfants/"),
        ("/admin/journal/", "/admin/journal/"),
        ("/equipe/ day list (largest school)", f"/equipe/{day}/{school.pk}/{canteen.pk}/"),
        ("/equipe/ roll-call (largest school)", f"/equipe/{day}/{school.pk}/{canteen.pk}/appel/"),
        (ON_ITS_DAY, f"/equipe/{day}/{school.pk}/{canteen.pk}/appel/"),
        ("export /admin/enfants/?export=xlsx", "/admin/enfants/?export=xlsx"),
        ("export /admin/enfants/?export=csv", "/admin/enfants/?export=csv"),
        ("export /admin/familles/?export=csv", "/admin/familles/?export=csv"),
        ("export /admin/reservations/?day=…&export=csv", f"/admin/reservations/?day={day}&export=csv"),
        ("export /admin/reservations/?day=…&export=xlsx",
         f"/admin/reservations/?day={day}&export=xlsx"),
    ]


ON_ITS_DAY = "/equipe/ roll-call on its day (mark buttons)"


def fetch(client, url):
    """(ms to the first byte, ms to the last, status, bytes) of one GET."""
    t0 = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        chunks = iter(response.streaming_content)
        first = next(chunks, b"")
        t_first = time.perf_counter()
        size = len(first) + sum(len(c) for c in chunks)
    else:
        t_first = time.perf_counter()
        size = len(response.content)
    t_last = time.perf_counter()
    return (t_first - t0) * 1000, (t_last - t0) * 1000, response.status_code, size


def measure_page(client, label, url):
    """Best of RUNS after a warm-up; the queries of one call; an export's first byte and peak."""
    import tracemalloc

    from django.db import connection

    fetch(client, url)  # warm-up
    queries = []

    def record(execute, sql, *args):
        queries.append(sql)
        return execute(sql, *args)

    # execute_wrapper, not CaptureQueriesContext: the test client's request_started signal
    # empties the debug query log.
    with connection.execute_wrapper(record):
        first, last, status, size = fetch(client, url)
    best_first, best_last = first, last
    for _ in range(RUNS - 1):
        first, last, status, size = fetch(client, url)
        best_first, best_last = min(best_first, first), min(best_last, last)
    peak = None
    if label.startswith("export"):
        tracemalloc.start()
        fetch(client, url)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return {"ms": best_last, "first_ms": best_first, "queries": len(queries), "status": status,
            "bytes": size, "peak_mib": peak}


def measure_town(kind):
    from django.core.management import call_command
    from django.test import Client

    from portal.models import Booking, Child, Family, LedgerEntry, User
    from portal.services import attendance

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email="agent.demo@example.org"))
    rows = {"size": {"families": Family.objects.count(), "children": Child.objects.count(),
                     "bookings": Booking.objects.count(), "ledger": LedgerEntry.objects.count()}}
    for label, url in pages():
        # The day is in the future and marks are taken on the day itself: the page as it is on
        # that day (two buttons per child) is measured by letting this agent mark.
        on_its_day = mock.patch.object(attendance, "may_mark", lambda *a, **k: True)
        with on_its_day if label == ON_ITS_DAY else contextlib.nullcontext():
            rows[label] = measure_page(client, label, url)
    best = None
    for _ in range(RUNS):
        t0, cpu0 = time.perf_counter(), time.process_time()
        call_command("check_wallets", stdout=open(os.devnull, "w"))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        if best is None or elapsed < best[0]:
            best = (elapsed, cpu)
    rows["manage.py check_wallets"] = {"ms": best[0] * 1000, "cpu_ms": best[1] * 1000, "queries": None}
    print(json.dumps(rows))


# The table of issue 14, as measured when it was filed (before any of its work).
ISSUE_TABLE = [
    ("/admin/reservations/", "/admin/reservations/", "51 queries, 90 ms", "51 queries, 354 ms"),
    ("/admin/reservations/?q=…", "/admin/reservations/?q=… (a child's name)", "10 queries, 39 ms",
     "51 queries, 160 ms"),
    ("/admin/porte-monnaie/", "/admin/porte-monnaie/", "17 queries, 47 ms", "51 queries, 104 ms"),
    ("/admin/familles/", "/admin/familles/", "12 queries, 45 ms", "12 queries, 83 ms"),
    ("/admin/enfants/?export=xlsx", "export /admin/enfants/?export=xlsx", "16 ms", "968 ms"),
    ("`manage.py check_wallets`", "manage.py check_wallets", "—", "15.9 s (13 s of Python CPU)"),
]


def cell(label, row):
    text = f"{row['ms']:.0f} ms"
    if row.get("queries") is not None:
        text = f"{row['queries']} queries, " + text
    if row.get("first_ms") is not None and label.startswith("export"):
        text += f" (first byte {row['first_ms']:.0f} ms, {row['bytes'] // 1024} KiB, " \
                f"peak {row['peak_mib']:.1f} MiB)"
    if row.get("cpu_ms") is not None:
        text += f" ({row['cpu_ms']:.0f} ms CPU)"
    if row.get("status", 200) != 200:
        text += f" HTTP {row['status']}"
    return text


def show(results):
    demo, big = results["demo"], results["big"]
    print(f"demo town: {demo.pop('size')}")
    print(f"big town:  {big.pop('size')}")
    print(f"load average: {os.getloadavg()}")
    print()
    print("| page | demo town | big town |")
    print("| --- | --- | --- |")
    for label in demo:
        print(f"| {label} | {cell(label, demo[label])} | {cell(label, big[label])} |")
    print()
    print("The issue's table:")
    print()
    print("| page | demo town, issue | big town, issue | demo town now | big town now |")
    print("| --- | --- | --- | --- | --- |")
    for page, label, demo_then, big_then in ISSUE_TABLE:
        now = f"{cell(label, demo[label])} | {cell(label, big[label])}"
        print(f"| {page} | {demo_then} | {big_then} | {now} |")


def main():
    args = sys.argv[1:]
    if args and args[0] in ("_build", "_measure"):
        django_setup(os.environ["DATABASE_URL"])
        return build_town(args[1]) if args[0] == "_build" else measure_town(args[1])
    step = args[0] if args else "all"
    if step in ("build", "all"):
        for kind, url in (("demo", DEMO), ("big", BIG)):
            recreate(url)
            child_process("_build", kind, url=url)
    if step in ("measure", "all"):
        show({kind: json.loads(child_process("_measure", kind, url=url))
              for kind, url in (("demo", DEMO), ("big", BIG))})


if __name__ == "__main__":
    main()
