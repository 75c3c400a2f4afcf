"""The 8:30 rush with Locust (bench/rush/locustfile.py) against gunicorn on PostgreSQL + Redis,
all on 127.0.0.1. Run it through /work/wt/bench-run on the shared machine (README: bench/README.md).

    python bench/rush/run.py --users 200,500,2500 --duration 60          # families log in with the form
    python bench/rush/run.py --users 200 --login session                  # already logged in
    python bench/rush/run.py --users 200 --duration 100 --faults          # faults during the load
    python bench/rush/run.py --reuse ...                                  # skip re-creating the town

The database named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/h_w12b) is dropped
and re-created unless --reuse. After each run: `manage.py check_wallets`. Prints req/s, p50/p95/p99
and failures per request name, and with --faults how many requests failed around each fault.
"""

import argparse
import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.stack import BIN, PORT_BASE, ROOT, Stack, gunicorn_workers, psql, recreate_database  # noqa: E402

DATABASE_URL = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_w12b")
DATA_PATH = Path(os.environ.get("RUSH_DATA", f"/tmp/preau-rush-{Path(DATABASE_URL).name}.json"))
REDIS_PORT = PORT_BASE + 10
APP_PORT = PORT_BASE + 1


def manage(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.settings", **(env or {})}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)


def prepare_town(families, redis_url):
    recreate_database(DATABASE_URL)
    code = ("import sys; sys.path.insert(0, '.'); from bench.rush.prepare import prepare; "
            f"prepare({families}, {str(DATA_PATH)!r})")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.settings",
           "REDIS_URL": redis_url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    print(f"town prepared: demo + {families} families in {time.monotonic() - started:.0f} s")


def check_wallets():
    result = manage("check_wallets")
    text = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, (text[-1] if text else "")


def locust(host, users, duration, login, failures_path, prefix):
    spawn_rate = max(1, users // 10)  # everyone arrives within 10 s: the rush
    env = {**os.environ, "RUSH_DATA": str(DATA_PATH), "RUSH_LOGIN": login,
           "RUSH_FAILURES": str(failures_path)}
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "rush" / "locustfile.py"), "--headless",
           "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration}s", "--host", host,
           "--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "ERROR",
           "--exit-code-on-error", "0"]
    started = time.time()
    subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=duration + 120)
    return started


def read_stats(prefix):
    rows = {}
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = row
    failures = []
    with open(f"{prefix}_failures.csv") as f:
        for row in csv.DictReader(f):
            failures.append((row["Name"], row["Error"][:90], int(row["Occurrences"])))
    return rows, failures


def print_stats(title, rows, failures, duration):
    print(f"\n{title}")
    print(f"  {'request':30} {'count':>7} {'fail':>6} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}  (ms)")
    for name, row in sorted(rows.items(), key=lambda item: item[0] == "Aggregated"):
        print(f"  {name:30} {row['Request Count']:>7} {row['Failure Count']:>6} "
              f"{float(row['Requests/s']):7.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")
    for name, error, count in failures:
        print(f"  failed: {count} × {name}: {error}")


def run_level(host, users, duration, login, tmp):
    prefix = tmp / f"u{users}"
    failures_path = tmp / f"u{users}-failures.txt"
    locust(host, users, duration, login, failures_path, prefix)
    rows, failures = read_stats(prefix)
    ok, wallets = check_wallets()
    print_stats(f"{users} users, {duration} s, login by {login}", rows, failures, duration)
    print(f"  check_wallets: {'ok' if ok else 'FAILED'} — {wallets}")
    return rows, ok


# Faults, in seconds from the start of the load: (when, name, action). Redis comes back 15 s
# after it is stopped; the killed worker is replaced by gunicorn's master.
def fault_plan(stack, redis_port, app_master):
    def terminate_backends():
        name = DATABASE_URL.rsplit("/", 1)[1]
        killed = psql(DATABASE_URL, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        return f"{len(killed)} backends terminated"

    def stop_redis():
        for name, process in stack.processes:
            if name == f"redis:{redis_port}":
                process.terminate()
                process.wait()
        return "redis-server stopped"

    def start_redis():
        stack.processes = [(n, p) for n, p in stack.processes if n != f"redis:{redis_port}"]
        stack.start_redis(redis_port)
        return "redis-server started again (empty)"

    def kill_worker():
        workers = gunicorn_workers(app_master.pid)
        os.kill(workers[0], signal.SIGKILL)
        return f"gunicorn worker {workers[0]} killed (SIGKILL), {len(workers)} were running"

    return [(20, "PostgreSQL backends terminated", terminate_backends),
            (40, "Redis stopped", stop_redis),
            (55, "Redis back", start_redis),
            (75, "gunicorn worker killed", kill_worker)]


def run_faults(stack, host, users, duration, login, tmp, app_master):
    plan = fault_plan(stack, REDIS_PORT, app_master)
    done = []
    start = {}

    def inject():
        while "t" not in start:
            time.sleep(0.05)
        for when, name, action in plan:
            delay = start["t"] + when - time.time()
            if delay > 0:
                time.sleep(delay)
            done.append((time.time(), name, action()))

    injector = threading.Thread(target=inject)
    injector.start()
    prefix = tmp / "faults"
    failures_path = tmp / "faults-failures.txt"
    failures_path.write_text("")
    original = locust

    def timed_locust(*args):
        start["t"] = time.time()
        return original(*args)

    timed_locust(host, users, duration, login, failures_path, prefix)
    injector.join()
    rows, failures = read_stats(prefix)
    print_stats(f"{users} users, {duration} s, faults during the load", rows, failures, duration)
    stamps = [(float(line.split()[0]), line.split()[1]) for line in failures_path.read_text().splitlines()]
    t0 = start["t"]
    print("  faults (seconds from the start) and failed requests in the 15 s after each:")
    for when, name, detail in done:
        window = [s for s, _ in stamps if when <= s < when + 15]
        print(f"  t={when - t0:5.1f} s  {name}: {detail} → {len(window)} failed")
    last = max((when for when, _, _ in done), default=t0) + 15
    after = [s for s, _ in stamps if s >= last]
    before = [s for s, _ in stamps if s < t0 + plan[0][0]]
    print(f"  failed before the first fault: {len(before)}; after the last window (recovered?): {len(after)}")
    ok, wallets = check_wallets()
    print(f"  check_wallets: {'ok' if ok else 'FAILED'} — {wallets}")
    return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="200,500,2500")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--login", choices=("password", "session"), default="password")
    parser.add_argument("--families", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the database and accounts of the last run")
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()
    stack = Stack()
    try:
        stack.start_redis(REDIS_PORT)
        redis_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        if not (args.reuse and DATA_PATH.exists()):
            prepare_town(args.families, redis_url)
        app = stack.start_gunicorn(APP_PORT, {"REDIS_URL": redis_url}, workers=args.workers)
        host = f"http://127.0.0.1:{APP_PORT}"
        print(f"gunicorn: {args.workers} sync workers on {host}; "
              f"PostgreSQL {DATABASE_URL.rsplit('/', 1)[1]}; Redis :{REDIS_PORT}; "
              f"load before: {open('/proc/loadavg').read().split()[0]}")
        ok = True
        if args.faults:
            users = int(args.users.split(",")[0])
            ok = run_faults(stack, host, users, args.duration, args.login, stack.tmp, app)
        else:
            for users in (int(u) for u in args.users.split(",")):
                ok = run_level(host, users, args.duration, args.login, stack.tmp)[1] and ok
        sys.exit(0 if ok else 1)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
