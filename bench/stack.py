"""Start and stop what the load benchmarks need on this machine: a scratch PostgreSQL database,
a throw-away redis-server, gunicorn instances and Debian's nginx in front of them. Everything
listens on 127.0.0.1 only, and `Stack.stop()` stops exactly the processes it started."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Each engineer has a range of ports on the shared machine; BENCH_PORT_BASE picks this one's.
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "9500"))


def recreate_database(url):
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()


def psql(url, sql):
    """Run one statement on the database server as the benchmark's user (pg_terminate_backend…)."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    with psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
                         password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def wait_http(url, seconds=180, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{url}: the server exited (code {process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=10)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds} s")


class Stack:
    def __init__(self):
        self.processes = []  # (name, Popen), stopped in reverse order
        self.tmp = Path(tempfile.mkdtemp(prefix="preau-bench-"))

    def start_redis(self, port):
        if not shutil.which("redis-server"):
            raise SystemExit("redis-server is needed: apt-get install -y redis-server")
        process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"],
            stdout=subprocess.DEVNULL)
        self.processes.append((f"redis:{port}", process))
        time.sleep(0.5)
        return process

    def start_gunicorn(self, port, env, workers=4, name=None):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "bench.settings", **env}
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
             "--backlog", "2048", "--timeout", "30", "--log-level", "warning", "website.wsgi"],
            cwd=ROOT, env=env, start_new_session=True)
        self.processes.append((name or f"gunicorn:{port}", process))
        wait_http(f"http://127.0.0.1:{port}/famille/connexion/", process=process)
        return process

    def start_nginx(self, port, upstreams, logins_per_second=6):
        """Debian's nginx (scripts/install-nginx.sh) as the proxy of docs/deployment.md, with a
        configuration of its own in a temporary folder (no system service is touched)."""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx is needed: bash scripts/install-nginx.sh")
        conf = (ROOT / "bench" / "nginx.conf.template").read_text()
        servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
        conf = (conf.replace("@TMP@", str(self.tmp)).replace("@PORT@", str(port))
                .replace("@UPSTREAMS@", servers).replace("@BUSY@", str(ROOT / "bench" / "busy"))
                .replace("@LOGINS@", str(logins_per_second))
                .replace("@LOGIN_BURST@", str(logins_per_second * 2)))
        (self.tmp / "nginx.conf").write_text(conf)
        process = subprocess.Popen([nginx, "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf"),
                                    "-g", "daemon off;"], start_new_session=True)
        self.processes.append((f"nginx:{port}", process))
        wait_http(f"http://127.0.0.1:{port}/famille/connexion/", process=process)
        return process

    def stop(self):
        for name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM) if name.startswith(("gunicorn", "nginx")) \
                        else process.terminate()
                except ProcessLookupError:
                    pass
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)


def gunicorn_workers(master_pid):
    """The worker processes of a gunicorn master."""
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]
