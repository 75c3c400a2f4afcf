"""Anonymous visitors' public pages (home, menus, documents list, tutorials, news) with wrk,
through gunicorn on PostgreSQL + Redis, with the public page cache off then on
(portal/cache/public_pages.py). Aim (issue 12): ≥ 5 × the official Wagtail demo's home page on
this machine, measured earlier at 33 req/s, so ≥ 165 req/s.

    python bench/public_pages.py      # through /work/wt/bench-run on the shared machine

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/h_w12b): migrates and loads the
demo town there (idempotent, nothing dropped). BENCH_DURATION (5s), BENCH_CONNECTIONS (4).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import PORT_BASE, ROOT, Stack  # noqa: E402

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_w12b")
DURATION = os.environ.get("BENCH_DURATION", "5s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "4")
PAGES = ["/", "/menus/", "/documents-utiles/", "/tutoriels/", "/actualites/"]
WAGTAIL_DEMO_HOME = 33.0  # req/s, the official Wagtail demo's home page, same machine (issue 12)
DONE_LUA = """
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"rps": %.1f, "p50": %.2f, "p95": %.2f, "errors": %d, "non2xx": %d}\\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status))
end
"""


def wrk(url, tmp):
    script = Path(tmp) / "done.lua"
    script.write_text(DONE_LUA)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(re.search(r"RESULT (\{.*\})", out).group(1))


def main():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "load_demo"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    stack = Stack()
    port = PORT_BASE + 2
    results = {}
    try:
        stack.start_redis(PORT_BASE + 11)
        redis_url = f"redis://127.0.0.1:{PORT_BASE + 11}/0"
        with tempfile.TemporaryDirectory() as tmp:
            for label, flag in (("computed each time (cache off)", "0"), ("public page cache", "1")):
                app = stack.start_gunicorn(port, {"REDIS_URL": redis_url, "PREAU_PUBLIC_PAGE_CACHE": flag},
                                           workers=2)
                for page in PAGES:
                    url = f"http://127.0.0.1:{port}{page}"
                    urllib.request.urlopen(url, timeout=30).read()  # the first view fills the cache
                    results[(label, page)] = wrk(url, tmp)
                os.killpg(app.pid, 15)
                app.wait()
                stack.processes = [(n, p) for n, p in stack.processes if p is not app]
    finally:
        stack.stop()
    print(f"\ngunicorn 2 sync workers, wrk {CONNECTIONS} connections × {DURATION} per row, "
          "anonymous, no cookie")
    print(f"{'page':22} {'mode':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'× Wagtail demo':>15}  errors")
    for (label, page), r in results.items():
        print(f"{page:22} {label:32} {r['rps']:8.1f} {r['p50']:8.2f} {r['p95']:8.2f} "
              f"{r['rps'] / WAGTAIL_DEMO_HOME:15.1f}  {r['errors'] + r['non2xx']}")
    worst = min(r["rps"] for (label, _), r in results.items() if label == "public page cache")
    print(f"\nslowest cached page: {worst:.0f} req/s = {worst / WAGTAIL_DEMO_HOME:.1f} × the Wagtail demo's "
          f"home ({WAGTAIL_DEMO_HOME:.0f} req/s); aim ≥ 5×")


if __name__ == "__main__":
    main()
