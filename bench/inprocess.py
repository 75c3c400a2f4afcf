"""In-process profile of the planning pages on PostgreSQL: time per call, SQL queries per call,
and (with --profile) the top of a cProfile listing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/preau_bench python bench/inprocess.py [--profile]

Like run.py, the database named in DATABASE_URL is dropped and recreated.
"""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (sets DJANGO_SETTINGS_MODULE and DATABASE_URL defaults)

CALLS = int(os.environ.get("BENCH_CALLS", "100"))


def main():
    redis = run.start_redis()
    try:
        measure()
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()


def measure():
    run.recreate_database()
    data = run.prepare()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = data["cookie"]
    child = f"/famille/planning/enfant/{data['child']}/?mois={data['month']}"
    family = f"/famille/planning/?mois={data['month']}"
    cells = iter(data["cells"])
    fresh = iter(range(10**9))  # a URL of its own each time: computed, never the page cache

    def click():
        return client.post("/famille/planning/clic/", {"scope": "family", "mois": data["month"],
                                                       "book": next(cells)}, HTTP_HX_REQUEST="true")

    pages = {
        "floor": lambda: client.get("/bench/floor/"),
        "dashboard /famille/": lambda: client.get("/famille/"),
        "one child": lambda: client.get(child),
        "one child, first view": lambda: client.get(f"{child}&n={next(fresh)}"),
        "family": lambda: client.get(family),
        "family, first view": lambda: client.get(f"{family}&n={next(fresh)}"),
        "booking click": click,
    }
    print(f"{'page':24} {'ms/call':>8} {'queries':>8}")
    for name, call in pages.items():
        assert call().status_code == 200, name  # warm up
        queries = []

        def record(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        # execute_wrapper, not CaptureQueriesContext: the test client's request_started signal
        # resets the debug query log in the middle of a request.
        with connection.execute_wrapper(record):
            call()
        start = time.perf_counter()
        for _ in range(CALLS):
            call()
        elapsed = (time.perf_counter() - start) / CALLS * 1000
        print(f"{name:24} {elapsed:8.2f} {len(queries):8d}")
        if "--sql" in sys.argv:
            for sql in queries:
                print("    ", sql[:150])
    if "--profile" in sys.argv:
        for name in ("one child", "one child, first view", "booking click"):
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(CALLS):
                pages[name]()
            profiler.disable()
            print(f"\n== {name} ({CALLS} calls), cumulative")
            stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("BENCH_LINES", "45")))


if __name__ == "__main__":
    main()
