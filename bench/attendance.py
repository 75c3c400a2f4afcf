"""Time the town's day on PostgreSQL: a school's day list and a 10-day caterer order for 3,000
children (two schools, canteen every meal day, 1 in 5 with a special diet).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_day python bench/attendance.py

The database named in DATABASE_URL is flushed (all its rows deleted) and refilled. Bookings are
bulk-inserted without ledger entries: only the reads are measured. Prints the median and best
of 20 runs and the number of queries of each.
"""

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_day")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from portal.models import Booking, Child, Family, School, Service, TicketType  # noqa: E402
from portal.services import attendance  # noqa: E402

CHILDREN = 3000
RUNS = 20
START = datetime.date(2027, 3, 1)  # a Monday in term time, no holiday in the next two weeks
CLASSES = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
DIETS = [Child.Diet.VEGETARIAN, Child.Diet.NO_PORK, Child.Diet.PAI_BASKET]


def build():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    schools = [School.objects.create(name=f"École {i}") for i in (1, 2)]
    meal = TicketType.objects.create(name="Repas")
    canteen = Service.objects.create(name="Cantine", weekdays="0134", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3), ticket_type=meal, is_meal=True)
    canteen.schools.add(*schools)
    families = Family.objects.bulk_create(Family(name=f"Famille {i}", status="validated")
                                          for i in range(CHILDREN // 2))
    children = Child.objects.bulk_create(
        Child(family=families[i // 2], first_name=f"Enfant{i}", last_name=f"Nom{i % 997}",
              birth_date=datetime.date(2018, 1, 1), school=schools[i % 2],
              school_class=CLASSES[i % len(CLASSES)], diet=DIETS[i % 3] if i % 5 == 0 else "",
              has_pai=i % 50 == 0)
        for i in range(CHILDREN))
    days, _closures = attendance.meal_days(START, 10)
    Booking.objects.bulk_create((Booking(child=c, family_id=c.family_id, service=canteen, date=d)
                                 for d in days for c in children),
                                batch_size=5000)
    # Fresh statistics, as autovacuum keeps them in production. Without them PostgreSQL guesses
    # one booking and one child and joins them in a nested loop: 3,000 × 1,125 rows compared,
    # 1.4 s of the 1.9–2.5 s first measured for the day list (see bench/README.md).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return schools[0], canteen, days


def measure(label, fn):
    fn()  # warm-up (connection, caches)
    with CaptureQueriesContext(connection) as queries:
        fn()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{label}: median {statistics.median(times):.1f} ms, best {min(times):.1f} ms, "
          f"{len(queries)} queries")


def main():
    school, canteen, days = build()
    print(f"{CHILDREN} children, {Booking.objects.count()} bookings over {len(days)} meal days "
          f"({connection.vendor})")
    measure("day list, one school (1,500 children, grouped by class)",
            lambda: attendance.day_list(school, canteen, days[0], with_pickup=True, with_health=True))
    measure("day list as XLSX (1,500 rows)",
            lambda: attendance.to_xlsx("Cantine", *attendance.day_list_table(
                attendance.day_list(school, canteen, days[0]))))
    measure("caterer order, 10 meal days, 2 schools (30,000 bookings)",
            lambda: attendance.caterer_order(START, 10))


if __name__ == "__main__":
    main()
